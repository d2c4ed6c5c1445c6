"""Shared by the decision-tree container tests: a real /opt/ml tree, the real programs, a real server.

Datasets come from scikit-learn's bundled files (no download). Programs run as subprocesses with the
`OPT_ML`/`SM_*` variables pointing at a temporary tree, exactly as SageMaker would run them in the image
(the package is imported as `containers.decision_tree.decision_tree` here, `decision_tree` there).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sklearn.datasets import load_iris

ROOT = Path(__file__).resolve().parents[2]
CONTAINER_DIR = ROOT / "containers" / "decision_tree"
PACKAGE = "containers.decision_tree.decision_tree"
PROGRAM_TIMEOUT_SECONDS = 60
SERVER_START_SECONDS = 20
# `make nginx` unpacks the Dockerfile's pinned Debian nginx here (no root needed); else one on PATH.
CACHED_NGINX = ROOT / ".cache" / "nginx" / "usr" / "sbin" / "nginx"


def nginx_binary() -> Path | None:
    if CACHED_NGINX.is_file():
        return CACHED_NGINX
    found = shutil.which("nginx")
    return Path(found) if found else None


needs_nginx = pytest.mark.skipif(
    nginx_binary() is None, reason="no nginx: `make nginx` unpacks the pinned Debian package into .cache/"
)


@dataclass(frozen=True)
class Dataset:
    features: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]


@pytest.fixture(scope="session")
def iris() -> Dataset:
    features, labels = load_iris(return_X_y=True)
    return Dataset(np.asarray(features, dtype=np.float64), np.asarray(labels, dtype=np.int64))


def write_csv(path: Path, dataset: Dataset) -> Path:
    """Label first, then the features; no header (SageMaker's built-in algorithm convention)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = np.column_stack([dataset.labels, dataset.features])
    np.savetxt(path, table, delimiter=",", fmt="%.17g")
    return path


def make_tree(base: Path, dataset: Dataset | None, hyperparameters: Mapping[str, str] | None = None) -> Path:
    """A fresh /opt/ml tree under `base`: hyperparameters.json and, with a dataset, channel `train`."""
    config_dir = base / "input" / "config"
    config_dir.mkdir(parents=True)
    (config_dir / "hyperparameters.json").write_text(json.dumps(dict(hyperparameters or {})))
    if dataset is not None:
        write_csv(base / "input" / "data" / "train" / "part-0.csv", dataset)
    return base


def program_environment(base: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The parent's environment without inherited SageMaker variables, pointed at `base`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SM_", "MODEL_SERVER_", "SAGEMAKER_", "SERVE_")) and name != "OPT_ML"
    }
    env["OPT_ML"] = str(base)
    env.update(extra or {})
    return env


def run_train(base: Path, extra_env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.train"],
        cwd=ROOT,
        env=program_environment(base, extra_env),
        capture_output=True,
        text=True,
        timeout=PROGRAM_TIMEOUT_SECONDS,
        check=False,
    )


def run_reporting_at_exit(
    program: str,
    env: Mapping[str, str],
    report: Path,
    expression: str,
    timeout: float = PROGRAM_TIMEOUT_SECONDS,
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run the `train` or `serve` program as `python -m` would, writing `expression` (Python, evaluated with
    `sys` imported as the process exits) to `report`: what the program itself saw, e.g. its imports."""
    wrapper = (
        "import atexit, runpy, sys\n"
        "def report():\n"
        f"    with open({str(report)!r}, 'w') as out:\n"
        f"        out.write(str({expression}))\n"
        "atexit.register(report)\n"
        f"runpy.run_module('{PACKAGE}.{program}', run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return result, report.read_text()


def imported_of(libraries: tuple[str, ...]) -> str:
    """The `run_reporting_at_exit` expression naming which of `libraries` the program imported."""
    return f"' '.join(name for name in {libraries!r} if name in sys.modules)"


@dataclass(frozen=True)
class TrainedTree:
    base: Path
    result: subprocess.CompletedProcess[str]

    @property
    def model_dir(self) -> Path:
        return self.base / "model"


@pytest.fixture(scope="session")
def trained_iris(tmp_path_factory: pytest.TempPathFactory, iris: Dataset) -> TrainedTree:
    """The iris tree trained once per session by the real `train` program (max_depth 3)."""
    base = make_tree(tmp_path_factory.mktemp("opt_ml"), iris, {"max_depth": "3"})
    result = run_train(base)
    assert result.returncode == 0, result.stderr
    return TrainedTree(base, result)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class HttpReply:
    status: int
    content_type: str
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


def http(
    url: str,
    *,
    body: bytes | Iterable[bytes] | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
) -> HttpReply:
    """One request with urllib; an HTTP error status is a reply, not an exception.

    An iterable body without a Content-Length header is sent with Transfer-Encoding: chunked.
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers or {}))
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return HttpReply(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as error:
        with error:
            return HttpReply(error.code, error.headers.get("Content-Type", ""), error.read())


class ServerProcess:
    """The real `serve` program on a free loopback port, with nginx in front or gunicorn alone; its output
    goes to a log file."""

    def __init__(
        self,
        model_base: Path,
        log_file: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        with_nginx: bool = False,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_file = log_file
        settings = {
            "SERVE_WITHOUT_NGINX": "0" if with_nginx else "1",
            "MODEL_SERVER_HOST": "127.0.0.1",
            "SAGEMAKER_BIND_TO_PORT": str(self.port),
            "SAGEMAKER_MODEL_SERVER_WORKERS": "2",
        }
        if with_nginx:
            nginx = nginx_binary()
            assert nginx is not None, "mark the test with needs_nginx"
            settings["PATH"] = f"{nginx.parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env = program_environment(model_base, {**settings, **(extra_env or {})})
        with log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", f"{PACKAGE}.serve"], cwd=ROOT, env=env, stdout=log, stderr=log
            )

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout: float = SERVER_START_SECONDS) -> None:
        """Block until `text` appears in the log (a bound on waiting, not a timing assertion)."""
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared in the server log:\n{self.log()}")
            time.sleep(0.05)

    def wait_until_ready(self) -> None:
        """Poll /ping until it answers 200; fail with the server's log if it exits or takes too long."""
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if http(f"{self.url}/ping", timeout=1).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        pytest.fail(f"serve did not answer /ping within {SERVER_START_SECONDS} s:\n{self.log()}")

    def stop(self, timeout: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="session")
def server(trained_iris: TrainedTree, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The real server on the session's iris model (payload limit 64 KiB, so 413 is cheap to provoke)."""
    log_file = tmp_path_factory.mktemp("serve") / "serve.log"
    process = ServerProcess(trained_iris.base, log_file, {"MODEL_SERVER_MAX_PAYLOAD_BYTES": str(64 * 1024)})
    try:
        process.wait_until_ready()
        yield process
    finally:
        process.stop()
