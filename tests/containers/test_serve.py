"""The `serve` program's settings, the gunicorn command and the nginx configuration it renders (no process
started here; test_server.py runs them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containers.decision_tree.decision_tree import serve
from containers.decision_tree.decision_tree.serve import (
    ServeSettings,
    SettingsError,
    gunicorn_command,
    render_nginx_conf,
)

RUNTIME_DIR = Path("/tmp/decision-tree-serve-test")


def test_defaults_follow_the_sagemaker_contract() -> None:
    settings = ServeSettings.from_environ({})

    assert settings.workers == serve.available_cpus() >= 1
    assert settings.timeout_seconds == 60
    assert settings.without_nginx is False
    assert settings.address == "0.0.0.0:8080"
    assert settings.gunicorn_bind(RUNTIME_DIR) == f"unix:{RUNTIME_DIR / serve.GUNICORN_SOCKET_NAME}"
    assert settings.log_level == "info"


def test_the_sagemaker_names_are_honoured() -> None:
    settings = ServeSettings.from_environ(
        {
            "SAGEMAKER_BIND_TO_PORT": "9001",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "SAGEMAKER_MODEL_SERVER_TIMEOUT": "30",
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "30",
        }
    )

    assert settings.address == "0.0.0.0:9001"
    command = gunicorn_command(settings, RUNTIME_DIR)
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--timeout") + 1] == "30"
    assert command[command.index("--log-level") + 1] == "warning"


def test_the_sagemaker_names_win_over_the_older_ones() -> None:
    settings = ServeSettings.from_environ(
        {
            "SAGEMAKER_BIND_TO_PORT": "9001",
            "MODEL_SERVER_PORT": "9002",
            "SAGEMAKER_MODEL_SERVER_WORKERS": "3",
            "MODEL_SERVER_WORKERS": "4",
            "MODEL_SERVER_TIMEOUT": "45",
        }
    )

    assert (settings.port, settings.workers, settings.timeout_seconds) == (9001, 3, 45)


def test_without_nginx_gunicorn_binds_the_given_address() -> None:
    settings = ServeSettings.from_environ(
        {"SERVE_WITHOUT_NGINX": "true", "MODEL_SERVER_HOST": "127.0.0.1", "SAGEMAKER_BIND_TO_PORT": "9001"}
    )

    assert settings.gunicorn_bind(RUNTIME_DIR) == "127.0.0.1:9001"
    command = gunicorn_command(settings, RUNTIME_DIR)
    assert command[command.index("--bind") + 1] == "127.0.0.1:9001"
    assert command[command.index("--worker-class") + 1] == "sync"


def test_gunicorn_preloads_the_app_and_writes_text_errors() -> None:
    command = gunicorn_command(ServeSettings.from_environ({}), RUNTIME_DIR)

    assert command[-1] == "containers.decision_tree.decision_tree.wsgi:app"
    assert "--preload" in command
    assert (
        command[command.index("--config") + 1]
        == "python:containers.decision_tree.decision_tree.gunicorn_config"
    )
    pythonpath = command[command.index("--pythonpath") + 1]
    assert (Path(pythonpath) / "containers" / "decision_tree" / "decision_tree" / "wsgi.py").is_file()
    # A per-user control socket would be shared by every server on the machine.
    assert "--no-control-socket" in command


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MODEL_SERVER_WORKERS": "two"}, "MODEL_SERVER_WORKERS must be a whole number, got 'two'"),
        ({"SAGEMAKER_MODEL_SERVER_WORKERS": "0"}, "SAGEMAKER_MODEL_SERVER_WORKERS must be at least 1, got 0"),
        ({"SAGEMAKER_MODEL_SERVER_TIMEOUT": "0"}, "SAGEMAKER_MODEL_SERVER_TIMEOUT must be at least 1, got 0"),
        (
            {"SAGEMAKER_BIND_TO_PORT": "70000"},
            "SAGEMAKER_BIND_TO_PORT must be at least 1 and at most 65535, got 70000",
        ),
        ({"SERVE_WITHOUT_NGINX": "y"}, "SERVE_WITHOUT_NGINX must be 1/true or 0/false, got 'y'"),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "-5"}, "SAGEMAKER_MAX_PAYLOAD_IN_MB must be a whole number >= 0"),
        ({"SAGEMAKER_CONTAINER_LOG_LEVEL": "loud"}, "SAGEMAKER_CONTAINER_LOG_LEVEL must be one of 10"),
        (
            {"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/html"},
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT must be one of text/csv, application/json",
        ),
    ],
)
def test_bad_settings_are_refused_by_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ServeSettings.from_environ(environ)


def test_the_nginx_template_gets_the_port_the_socket_and_the_runtime_dir() -> None:
    settings = ServeSettings.from_environ(
        {"SAGEMAKER_BIND_TO_PORT": "9001", "MODEL_SERVER_HOST": "127.0.0.1"}
    )

    conf = render_nginx_conf(
        serve.NGINX_CONF_TEMPLATE.read_text(), settings=settings, runtime_dir=RUNTIME_DIR
    )

    assert "listen 127.0.0.1:9001 deferred;" in conf
    assert f"server unix:{RUNTIME_DIR}/gunicorn.sock;" in conf
    assert f"pid {RUNTIME_DIR}/nginx.pid;" in conf
    assert not serve.PLACEHOLDER.search(conf)


def test_a_placeholder_serve_does_not_know_is_refused() -> None:
    with pytest.raises(SettingsError, match="@WORKERS@"):
        render_nginx_conf(
            "worker_processes @WORKERS@;", settings=ServeSettings.from_environ({}), runtime_dir=RUNTIME_DIR
        )


def test_an_ipv6_host_is_bracketed() -> None:
    assert ServeSettings.from_environ({"MODEL_SERVER_HOST": "::1"}).address == "[::1]:8080"


def test_nginx_runs_the_rendered_configuration_with_its_errors_on_stderr() -> None:
    command = serve.nginx_command("/usr/sbin/nginx", RUNTIME_DIR / "nginx.conf", RUNTIME_DIR)

    assert command == [
        "/usr/sbin/nginx",
        "-p",
        f"{RUNTIME_DIR}/",
        "-c",
        str(RUNTIME_DIR / "nginx.conf"),
        "-e",
        "stderr",
    ]
