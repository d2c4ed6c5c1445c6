"""The `serve` program: gunicorn behind nginx, answering SageMaker on port 8080.

SageMaker starts an inference container with `serve` and sends `GET /ping` and `POST /invocations` to port
8080. nginx (with the shipped `nginx.conf`) listens there and forwards to gunicorn on the unix socket
`GUNICORN_SOCKET`; gunicorn runs the Flask app of `wsgi.py` in worker processes. This program supervises
both: when either exits, it stops the other and exits non-zero; on SIGTERM or SIGINT it forwards SIGTERM to
both and exits 0 once they have stopped.

| variable               | meaning                                                       | default        |
| ---------------------- | ------------------------------------------------------------- | -------------- |
| `MODEL_SERVER_WORKERS` | gunicorn worker processes                                     | CPUs available |
| `MODEL_SERVER_TIMEOUT` | seconds one request may take before its worker is restarted   | 60             |
| `SERVE_WITHOUT_NGINX`  | `1`/`true`: run gunicorn alone, on the address below          | unset (nginx)  |
| `MODEL_SERVER_HOST`    | the address gunicorn listens on without nginx                 | 0.0.0.0        |
| `MODEL_SERVER_PORT`    | the port gunicorn listens on without nginx                    | 8080           |

The payload limit (`predictor.py`) and the model directory (`paths.py`) are read by the workers.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from .predictor import max_payload_bytes

# Fixed because nginx.conf names it too (a test checks that they agree).
GUNICORN_SOCKET = "/tmp/gunicorn.sock"
NGINX_CONF = Path(__file__).with_name("nginx.conf")
NGINX_PORT = 8080
DEFAULT_TIMEOUT_SECONDS = 60
# gunicorn lets busy workers finish for this long after SIGTERM; the supervisor waits a little longer.
GRACEFUL_TIMEOUT_SECONDS = 20
STOP_WAIT_SECONDS = GRACEFUL_TIMEOUT_SECONDS + 5
POLL_SECONDS = 0.1
EXIT_BAD_SETTINGS = 2
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


class SettingsError(ValueError):
    """An environment variable of the server has a value it cannot use; the message names it."""


def available_cpus() -> int:
    # The CPUs this process may run on (a container's cpuset), not the host's count.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def _positive_int(environ: Mapping[str, str], name: str, default: int, maximum: int | None = None) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 1 or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise SettingsError(f"{name} must be at least 1{upper}, got {value}")
    return value


@dataclass(frozen=True)
class ServeSettings:
    workers: int
    timeout_seconds: int
    without_nginx: bool
    host: str
    port: int

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServeSettings:
        raw_flag = environ.get("SERVE_WITHOUT_NGINX", "").strip().lower()
        if raw_flag not in TRUE_WORDS | FALSE_WORDS:
            raise SettingsError(f"SERVE_WITHOUT_NGINX must be 1/true or 0/false, got {raw_flag!r}")
        try:
            max_payload_bytes(environ)
        except ValueError as error:
            raise SettingsError(str(error)) from None
        return cls(
            workers=_positive_int(environ, "MODEL_SERVER_WORKERS", available_cpus()),
            timeout_seconds=_positive_int(environ, "MODEL_SERVER_TIMEOUT", DEFAULT_TIMEOUT_SECONDS),
            without_nginx=raw_flag in TRUE_WORDS,
            host=environ.get("MODEL_SERVER_HOST", "").strip() or "0.0.0.0",
            port=_positive_int(environ, "MODEL_SERVER_PORT", NGINX_PORT, maximum=65535),
        )

    @property
    def bind(self) -> str:
        return f"{self.host}:{self.port}" if self.without_nginx else f"unix:{GUNICORN_SOCKET}"


def _package() -> tuple[str, Path]:
    """This package's import name and the directory it must be imported from."""
    if not __package__:
        raise SettingsError("run serve as a module: python -m decision_tree.serve")
    depth = len(__package__.split("."))
    return __package__, Path(__file__).resolve().parents[depth]


def gunicorn_command(settings: ServeSettings) -> list[str]:
    package, import_root = _package()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        settings.bind,
        "--workers",
        str(settings.workers),
        "--worker-class",
        "sync",
        "--timeout",
        str(settings.timeout_seconds),
        "--graceful-timeout",
        str(GRACEFUL_TIMEOUT_SECONDS),
        "--pythonpath",
        str(import_root),
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


def nginx_command(nginx: str) -> list[str]:
    return [nginx, "-c", str(NGINX_CONF), "-e", "stderr"]


def log(message: str) -> None:
    print(f"serve: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Runs child processes until one exits or a stop signal arrives, then stops them all."""

    def __init__(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        self.children = children
        self.stop_requested = False

    def request_stop(self, signum: int, _frame: FrameType | None) -> None:
        if not self.stop_requested:
            log(f"received {signal.Signals(signum).name}; stopping {', '.join(self.children)}")
        self.stop_requested = True
        self._signal_all(signal.SIGTERM)

    def run(self) -> int:
        exited = self._wait_for_first_exit()
        if not self.stop_requested:
            name, status = exited
            log(f"{name} exited with status {status}; stopping the rest")
        self.stop_all()
        if self.stop_requested:
            return 0
        status = exited[1]
        return status if status > 0 else 1

    def stop_all(self) -> None:
        """SIGTERM to every child still running, then wait for each (SIGKILL after STOP_WAIT_SECONDS)."""
        self._signal_all(signal.SIGTERM)
        deadline = time.monotonic() + STOP_WAIT_SECONDS
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{name} did not stop within {STOP_WAIT_SECONDS} s; killing it")
                child.kill()
                child.wait()

    def _wait_for_first_exit(self) -> tuple[str, int]:
        while True:
            for name, child in self.children.items():
                status = child.poll()
                if status is not None:
                    return name, status
            time.sleep(POLL_SECONDS)

    def _signal_all(self, signum: int) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signum)


def main() -> int:
    try:
        settings = ServeSettings.from_environ(os.environ)
        commands = {"gunicorn": gunicorn_command(settings)}
        if not settings.without_nginx:
            nginx = shutil.which("nginx")
            if nginx is None:
                raise SettingsError("nginx is not on PATH; set SERVE_WITHOUT_NGINX=1 to run gunicorn alone")
            commands["nginx"] = nginx_command(nginx)
    except SettingsError as error:
        log(str(error))
        return EXIT_BAD_SETTINGS
    supervisor = Supervisor({})
    # Installed before any child starts, so a stop signal can never miss one.
    signal.signal(signal.SIGTERM, supervisor.request_stop)
    signal.signal(signal.SIGINT, supervisor.request_stop)
    addresses = {"gunicorn": settings.bind, "nginx": f"port {NGINX_PORT}"}
    for name, command in commands.items():
        try:
            child = subprocess.Popen(command)
        except OSError as error:
            log(f"cannot start {name}: {error}")
            supervisor.stop_all()
            return 1
        supervisor.children[name] = child
        log(f"started {name} (pid {child.pid}) on {addresses[name]}")
        if supervisor.stop_requested:
            # The signal may have come before this child was registered, so the handler missed it.
            supervisor.stop_all()
            return 0
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main())
