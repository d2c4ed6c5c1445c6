"""The `serve` program's settings and the gunicorn command it builds (no process started here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from containers.decision_tree.decision_tree import serve
from containers.decision_tree.decision_tree.serve import ServeSettings, SettingsError, gunicorn_command


def test_defaults_follow_the_sagemaker_contract() -> None:
    settings = ServeSettings.from_environ({})

    assert settings.workers == serve.available_cpus() >= 1
    assert settings.timeout_seconds == 60
    assert settings.without_nginx is False
    assert settings.bind == f"unix:{serve.GUNICORN_SOCKET}"


def test_without_nginx_gunicorn_binds_the_given_address() -> None:
    settings = ServeSettings.from_environ(
        {
            "SERVE_WITHOUT_NGINX": "true",
            "MODEL_SERVER_HOST": "127.0.0.1",
            "MODEL_SERVER_PORT": "9001",
            "MODEL_SERVER_WORKERS": "3",
            "MODEL_SERVER_TIMEOUT": "30",
        }
    )

    assert settings.bind == "127.0.0.1:9001"
    assert ServeSettings.from_environ({"SERVE_WITHOUT_NGINX": "1"}).bind == "0.0.0.0:8080"
    command = gunicorn_command(settings)
    assert command[command.index("--bind") + 1] == "127.0.0.1:9001"
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--timeout") + 1] == "30"
    assert command[command.index("--worker-class") + 1] == "sync"


def test_gunicorn_loads_this_package_from_where_it_lives() -> None:
    command = gunicorn_command(ServeSettings.from_environ({}))

    assert command[-1] == "containers.decision_tree.decision_tree.wsgi:app"
    pythonpath = command[command.index("--pythonpath") + 1]
    assert (Path(pythonpath) / "containers" / "decision_tree" / "decision_tree" / "wsgi.py").is_file()
    # A per-user control socket would be shared by every server on the machine.
    assert "--no-control-socket" in command


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"MODEL_SERVER_WORKERS": "two"}, "MODEL_SERVER_WORKERS must be a whole number, got 'two'"),
        ({"MODEL_SERVER_TIMEOUT": "0"}, "MODEL_SERVER_TIMEOUT must be at least 1, got 0"),
        ({"MODEL_SERVER_PORT": "70000"}, "MODEL_SERVER_PORT must be at least 1 and at most 65535, got 70000"),
        ({"SERVE_WITHOUT_NGINX": "y"}, "SERVE_WITHOUT_NGINX must be 1/true or 0/false, got 'y'"),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "-5"}, "SAGEMAKER_MAX_PAYLOAD_IN_MB must be a whole number >= 0"),
    ],
)
def test_bad_settings_are_refused_by_name(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        ServeSettings.from_environ(environ)


def test_nginx_runs_the_shipped_configuration_in_the_foreground_of_the_supervisor() -> None:
    command = serve.nginx_command("/usr/sbin/nginx")

    assert command[:3] == ["/usr/sbin/nginx", "-c", str(serve.NGINX_CONF)]
    assert serve.NGINX_CONF.is_file()
