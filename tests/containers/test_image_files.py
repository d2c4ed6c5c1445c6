"""The files that make the image: nginx.conf, Dockerfile, the `train`/`serve` programs, build_and_push.sh.

Docker is not needed: these check the contracts between the files (ports, socket, paths, pins), and run the
tools that are installed (nginx -t, shellcheck) when they are.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from containers.decision_tree.decision_tree import app_settings, predictor, serve
from containers.decision_tree.decision_tree.serve import ServeSettings, render_nginx_conf
from tests.containers.conftest import CONTAINER_DIR, ROOT, needs_nginx, nginx_binary

NGINX_TEMPLATE = serve.NGINX_CONF_TEMPLATE.read_text()
DOCKERFILE = (CONTAINER_DIR / "Dockerfile").read_text()
BUILD_SCRIPT = CONTAINER_DIR / "build_and_push.sh"
RUNTIME_DIR = Path("/tmp/decision-tree-serve-files")
NGINX_CONF = render_nginx_conf(
    NGINX_TEMPLATE, settings=ServeSettings.from_environ({}), runtime_dir=RUNTIME_DIR
)


def nginx_directive(name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;{{}}]+);", NGINX_CONF, re.MULTILINE)


def test_nginx_listens_on_the_port_and_forwards_to_the_socket_gunicorn_binds() -> None:
    settings = ServeSettings.from_environ({})
    assert nginx_directive("listen") == [f"{settings.address} deferred"]
    assert nginx_directive("server") == [settings.gunicorn_bind(RUNTIME_DIR)]
    assert nginx_directive("proxy_pass") == ["http://gunicorn"]
    # The supervisor watches nginx's own process, so nginx must not fork into the background.
    assert nginx_directive("daemon") == ["off"]


def test_nginx_accepts_every_body_the_app_may_accept() -> None:
    (size,) = nginx_directive("client_max_body_size")
    match = re.fullmatch(r"(\d+)m", size)
    assert match is not None
    assert int(match.group(1)) * app_settings.MIB == predictor.FRONT_END_MAX_BODY_BYTES
    assert predictor.FRONT_END_MAX_BODY_BYTES >= app_settings.DEFAULT_MAX_PAYLOAD_BYTES


def test_nginx_routes_only_the_sagemaker_paths_to_gunicorn() -> None:
    (pattern,) = re.findall(r"location ~ (\S+) \{", NGINX_CONF)
    for path in ("/ping", "/invocations", "/execution-parameters"):
        assert re.search(pattern, path)
    for path in ("/", "/pingx", "/admin/ping", "/execution-parameters/x"):
        assert not re.search(pattern, path)


def test_nginx_answers_its_own_errors_in_text() -> None:
    assert nginx_directive("default_type") == ["text/plain"]
    pages = {" ".join(value.split()[:-1]) for value in nginx_directive("error_page")}
    assert pages == {"400", "413", "502 503 504"}


def test_nginx_writes_only_in_its_runtime_dir() -> None:
    written = [
        *nginx_directive("pid"),
        *(
            value
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            for value in nginx_directive(f"{name}_temp_path")
        ),
    ]
    assert len(written) == 6
    assert all(path.startswith(f"{RUNTIME_DIR}/") for path in written), written


@needs_nginx
def test_nginx_accepts_the_rendered_configuration(tmp_path: Path) -> None:
    nginx = nginx_binary()
    assert nginx is not None
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        render_nginx_conf(NGINX_TEMPLATE, settings=ServeSettings.from_environ({}), runtime_dir=tmp_path)
    )
    result = subprocess.run(
        [*serve.nginx_command(str(nginx), conf, tmp_path)[:-2], "-t", "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_the_image_pins_the_nginx_the_tests_run() -> None:
    (pinned,) = re.findall(r"apt-get install [^\n]*\bnginx=(\S+)", DOCKERFILE)
    (makefile_version,) = re.findall(
        r"^NGINX_VERSION := (\S+)$", (ROOT / "Makefile").read_text(), re.MULTILINE
    )
    assert pinned == makefile_version
    # The Debian release of the base image is the one the version belongs to.
    assert "slim-bookworm" in DOCKERFILE and pinned.endswith(tuple(f"+deb12u{n}" for n in range(1, 100)))


def test_the_base_image_is_pinned_to_the_python_the_tests_run() -> None:
    (image,) = re.findall(r"^FROM (\S+)$", DOCKERFILE, re.MULTILINE)
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", image)
    assert match is not None, f"pin the base image to a full version tag, not {image}"
    image_python = (int(match.group(1)), int(match.group(2)))
    assert image_python == sys.version_info[:2], (
        f"the image runs Python {image_python}, the tests {sys.version_info[:2]}: the container's code would "
        "ship untested on its own interpreter"
    )


def test_the_image_installs_the_pinned_requirements_and_nginx() -> None:
    requirements = [
        line
        for line in (CONTAINER_DIR / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements
    assert all(re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[\w.]+", line) for line in requirements), requirements
    assert "--requirement /tmp/requirements.txt" in DOCKERFILE


def test_the_image_puts_train_and_serve_on_path() -> None:
    environment = re.search(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE)
    assert environment is not None
    settings = dict(item.split("=", 1) for item in environment.group(1).replace("\\\n", " ").split())
    assert settings["PATH"] == "/opt/program/bin:$PATH"
    assert settings["PYTHONPATH"] == "/opt/program"
    assert settings["PYTHONUNBUFFERED"] == "1"
    assert "WORKDIR /opt/program" in DOCKERFILE
    assert "COPY bin/ /opt/program/bin/" in DOCKERFILE
    assert "COPY decision_tree/ /opt/program/decision_tree/" in DOCKERFILE
    assert re.search(r"^EXPOSE 8080$", DOCKERFILE, re.MULTILINE)


@pytest.mark.parametrize("program", ["train", "serve"])
def test_each_program_runs_its_module(program: str) -> None:
    script = CONTAINER_DIR / "bin" / program
    assert os.access(script, os.X_OK)
    assert script.read_text().startswith("#!/bin/sh\n")
    assert f'exec python -m decision_tree.{program} "$@"' in script.read_text()
    assert (CONTAINER_DIR / "decision_tree" / f"{program}.py").is_file()


def test_the_build_script_is_strict_bash() -> None:
    text = BUILD_SCRIPT.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert os.access(BUILD_SCRIPT, os.X_OK)
    assert "aws ecr get-login-password" in text
    syntax = subprocess.run(["bash", "-n", str(BUILD_SCRIPT)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "usage: "),
        (["only-a-repository"], "usage: "),
        (["Bad_Name", "v1"], "invalid repository name: Bad_Name"),
        (["decision-tree", "bad tag"], "invalid tag: bad tag"),
    ],
)
def test_the_build_script_checks_its_arguments_before_calling_aws(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    # PATH without aws or docker: a call to either would fail differently.
    env = {
        "PATH": os.pathsep.join(
            str(Path(shutil.which(tool) or "/bin/sh").parent) for tool in ("bash", "dirname")
        )
    }
    result = subprocess.run(
        ["bash", str(BUILD_SCRIPT), *arguments],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )
    assert result.returncode == 64
    assert message in result.stderr


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed here")
def test_the_build_script_is_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck is not None
    result = subprocess.run(
        [
            shellcheck,
            str(BUILD_SCRIPT),
            str(CONTAINER_DIR / "bin" / "train"),
            str(CONTAINER_DIR / "bin" / "serve"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout
