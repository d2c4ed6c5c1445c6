"""The `serve` program: gunicorn behind nginx, answering SageMaker on port 8080 (or SAGEMAKER_BIND_TO_PORT).

SageMaker starts an inference container with `serve` and sends `GET /ping`, `POST /invocations` and, for
batch transform, `GET /execution-parameters` to one port. nginx listens there and forwards to gunicorn on a
unix socket in a private runtime directory; gunicorn runs the Flask app of `wsgi.py` in worker processes,
with the model loaded once before the workers fork (`--preload`). This program supervises both:

- when either exits on its own, it stops the other and exits non-zero;
- on SIGTERM or SIGINT it stops gracefully and exits 0: SIGQUIT to nginx (nginx's graceful stop: it closes
  its listening socket and finishes the requests it holds), then, once nginx is gone, SIGTERM to gunicorn
  (gunicorn's graceful stop: each worker finishes its current request). Without nginx only the second
  step applies. A child that outlives GRACEFUL_TIMEOUT_SECONDS is killed.

Settings, `SAGEMAKER_*` first (the names SageMaker and its inference toolkit set), then the older names:

| variable (first name wins) | meaning | default |
| --- | --- | --- |
| `SAGEMAKER_BIND_TO_PORT`, `MODEL_SERVER_PORT` | the port SageMaker talks to | 8080 |
| `MODEL_SERVER_HOST` | the address of that port | 0.0.0.0 |
| `SAGEMAKER_MODEL_SERVER_WORKERS`, `MODEL_SERVER_WORKERS` | gunicorn worker processes | CPUs available |
| `SAGEMAKER_MODEL_SERVER_TIMEOUT`, `MODEL_SERVER_TIMEOUT` | seconds one request may take | 60 |
| `SAGEMAKER_CONTAINER_LOG_LEVEL` | logging level (10, 20, ...) | 20 (info) |
| `SERVE_WITHOUT_NGINX` | `1`: gunicorn alone on the port | unset (nginx) |

`SAGEMAKER_SAFE_PORT_RANGE` (the ports a container may use internally) needs nothing: the only port bound is
SageMaker's, since gunicorn listens on a unix socket. The payload limit, the default `Accept` and the
batch settings are read by the app (`predictor.py`); the model directory by `paths.py`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .app_settings import WORKERS_VARIABLE, default_accept, max_payload_bytes

NGINX_CONF_TEMPLATE = Path(__file__).with_name("nginx.conf")
# The placeholders of nginx.conf, filled in by render_nginx_conf.
PLACEHOLDER = re.compile(r"@[A-Z_]+@")
GUNICORN_SOCKET_NAME = "gunicorn.sock"
DEFAULT_PORT = 8080
DEFAULT_TIMEOUT_SECONDS = 60
# How long each child may take to finish its requests after a stop signal before it is killed.
GRACEFUL_TIMEOUT_SECONDS = 20
KILL_WAIT_SECONDS = 5
POLL_SECONDS = 0.05
EXIT_BAD_SETTINGS = 2
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})
# SAGEMAKER_CONTAINER_LOG_LEVEL holds a Python logging level, by number or by name.
LOG_LEVELS = {"10": "debug", "20": "info", "30": "warning", "40": "error", "50": "critical"}


class SettingsError(ValueError):
    """An environment variable of the server has a value it cannot use; the message names it."""


def available_cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _positive_int(
    environ: Mapping[str, str], names: tuple[str, ...], default: int, maximum: int | None = None
) -> int:
    """The first of `names` that is set (non-empty), as an integer in range; `default` if none is."""
    for name in names:
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value < 1 or (maximum is not None and value > maximum):
            upper = f" and at most {maximum}" if maximum is not None else ""
            raise SettingsError(f"{name} must be at least 1{upper}, got {value}")
        return value
    return default


def _log_level(environ: Mapping[str, str]) -> str:
    raw = environ.get("SAGEMAKER_CONTAINER_LOG_LEVEL", "").strip().lower()
    if not raw:
        return "info"
    if raw in LOG_LEVELS:
        return LOG_LEVELS[raw]
    if raw in LOG_LEVELS.values():
        return raw
    raise SettingsError(
        f"SAGEMAKER_CONTAINER_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)} or a level name, got {raw!r}"
    )


@dataclass(frozen=True)
class ServeSettings:
    workers: int
    timeout_seconds: int
    without_nginx: bool
    host: str
    port: int
    log_level: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServeSettings:
        raw_flag = environ.get("SERVE_WITHOUT_NGINX", "").strip().lower()
        if raw_flag not in TRUE_WORDS | FALSE_WORDS:
            raise SettingsError(f"SERVE_WITHOUT_NGINX must be 1/true or 0/false, got {raw_flag!r}")
        # The workers read these too; a bad value must stop serve before anything starts.
        try:
            max_payload_bytes(environ)
            default_accept(environ)
        except ValueError as error:
            raise SettingsError(str(error)) from None
        return cls(
            workers=_positive_int(environ, (WORKERS_VARIABLE, "MODEL_SERVER_WORKERS"), available_cpus()),
            timeout_seconds=_positive_int(
                environ, ("SAGEMAKER_MODEL_SERVER_TIMEOUT", "MODEL_SERVER_TIMEOUT"), DEFAULT_TIMEOUT_SECONDS
            ),
            without_nginx=raw_flag in TRUE_WORDS,
            host=environ.get("MODEL_SERVER_HOST", "").strip() or "0.0.0.0",
            port=_positive_int(
                environ, ("SAGEMAKER_BIND_TO_PORT", "MODEL_SERVER_PORT"), DEFAULT_PORT, maximum=65535
            ),
            log_level=_log_level(environ),
        )

    @property
    def address(self) -> str:
        """The public address: nginx's listen directive, or gunicorn's bind without nginx."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def gunicorn_bind(self, runtime_dir: Path) -> str:
        return self.address if self.without_nginx else f"unix:{runtime_dir / GUNICORN_SOCKET_NAME}"


def _package() -> tuple[str, Path]:
    """This package's import name and the directory it must be imported from."""
    if not __package__:
        raise SettingsError("run serve as a module: python -m decision_tree.serve")
    depth = len(__package__.split("."))
    return __package__, Path(__file__).resolve().parents[depth]


def gunicorn_command(settings: ServeSettings, runtime_dir: Path) -> list[str]:
    package, import_root = _package()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        settings.gunicorn_bind(runtime_dir),
        "--workers",
        str(settings.workers),
        "--worker-class",
        "sync",
        "--timeout",
        str(settings.timeout_seconds),
        "--graceful-timeout",
        str(GRACEFUL_TIMEOUT_SECONDS),
        # The model is loaded once in the master and shared by the forked workers, so the first /ping
        # after the socket opens is answered at once instead of waiting for a lazy load.
        "--preload",
        "--log-level",
        settings.log_level,
        "--pythonpath",
        str(import_root),
        # Its error pages are HTML; this module makes them text/plain (see gunicorn_config.py).
        "--config",
        f"python:{package}.gunicorn_config",
        "--error-logfile",
        "-",
        # The default control socket lives in $HOME: shared by every server of a user, and a container's
        # HOME may not be writable.
        "--no-control-socket",
    ]
    if Path("/dev/shm").is_dir():
        # Heartbeat files on a container's overlay /tmp can stall workers; gunicorn's docs advise tmpfs.
        command += ["--worker-tmp-dir", "/dev/shm"]
    return [*command, f"{package}.wsgi:app"]


def render_nginx_conf(template: str, *, settings: ServeSettings, runtime_dir: Path) -> str:
    values = {
        "@LISTEN@": settings.address,
        "@GUNICORN_SOCKET@": str(runtime_dir / GUNICORN_SOCKET_NAME),
        "@RUNTIME_DIR@": str(runtime_dir),
    }
    text = template
    for placeholder, value in values.items():
        text = text.replace(placeholder, value)
    left = PLACEHOLDER.findall(text)
    if left:
        raise SettingsError(
            f"nginx.conf has placeholders serve does not fill: {', '.join(sorted(set(left)))}"
        )
    return text


def nginx_command(nginx: str, conf: Path, runtime_dir: Path) -> list[str]:
    return [nginx, "-p", f"{runtime_dir}/", "-c", str(conf), "-e", "stderr"]


def make_runtime_dir() -> Path:
    """A private directory for the socket, nginx's files and its pid: two servers never share them."""
    runtime_dir = Path(tempfile.mkdtemp(prefix="decision-tree-serve-"))
    # nginx's workers drop root for `nobody` and must reach the socket inside.
    runtime_dir.chmod(0o755)
    return runtime_dir


def log(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Runs child processes until one exits or a stop signal arrives, then stops them all gracefully."""

    def __init__(self) -> None:
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_signal: int | None = None

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        # Only a flag: the main loop does the stopping, so the handler never interrupts a stop in progress.
        if self.stop_signal is None:
            log(f"received {signal.Signals(signum).name}; stopping {', '.join(self.children) or 'nothing'}")
            self.stop_signal = signum

    def run(self) -> int:
        while self.stop_signal is None:
            for name, child in self.children.items():
                status = child.poll()
                if status is not None and self.stop_signal is None:
                    log(f"{name} exited with status {status}; stopping the rest")
                    self.stop_all()
                    return status if status > 0 else 1
            time.sleep(POLL_SECONDS)
        self.stop_all()
        return 0

    def stop_all(self) -> None:
        """nginx first (SIGQUIT), so the requests it holds still reach gunicorn; then gunicorn (SIGTERM)."""
        nginx = self.children.get("nginx")
        if nginx is not None:
            self._stop("nginx", nginx, signal.SIGQUIT)
        for name, child in self.children.items():
            if name != "nginx":
                self._stop(name, child, signal.SIGTERM)

    @staticmethod
    def _stop(name: str, child: subprocess.Popen[bytes], signum: int) -> None:
        if child.poll() is not None:
            return
        child.send_signal(signum)
        try:
            child.wait(timeout=GRACEFUL_TIMEOUT_SECONDS)
            log(f"{name} stopped ({signal.Signals(signum).name}, status {child.returncode})")
        except subprocess.TimeoutExpired:
            waited = f"{GRACEFUL_TIMEOUT_SECONDS} s of {signal.Signals(signum).name}"
            log(f"{name} did not stop within {waited}; killing it")
            child.kill()
            child.wait(timeout=KILL_WAIT_SECONDS)


def main() -> int:
    runtime_dir: Path | None = None
    try:
        settings = ServeSettings.from_environ(os.environ)
        nginx = None
        if not settings.without_nginx:
            nginx = shutil.which("nginx")
            if nginx is None:
                raise SettingsError("nginx is not on PATH; set SERVE_WITHOUT_NGINX=1 to run gunicorn alone")
        runtime_dir = make_runtime_dir()
        commands = {"gunicorn": gunicorn_command(settings, runtime_dir)}
        if nginx is not None:
            conf = runtime_dir / "nginx.conf"
            conf.write_text(
                render_nginx_conf(NGINX_CONF_TEMPLATE.read_text(), settings=settings, runtime_dir=runtime_dir)
            )
            commands["nginx"] = nginx_command(nginx, conf, runtime_dir)
    except SettingsError as error:
        log(str(error))
        if runtime_dir is not None:
            shutil.rmtree(runtime_dir, ignore_errors=True)
        return EXIT_BAD_SETTINGS
    supervisor = Supervisor()
    # Installed before any child starts, so a stop signal can never miss one.
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    # The workers report the resolved count in /execution-parameters.
    child_env = {**os.environ, WORKERS_VARIABLE: str(settings.workers)}
    try:
        for name, command in commands.items():
            try:
                child = subprocess.Popen(command, env=child_env)
            except OSError as error:
                log(f"cannot start {name}: {error}")
                supervisor.stop_all()
                return 1
            supervisor.children[name] = child
            where = settings.gunicorn_bind(runtime_dir) if name == "gunicorn" else settings.address
            log(f"started {name} (pid {child.pid}) on {where}")
        return supervisor.run()
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
