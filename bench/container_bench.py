#!/usr/bin/env python3
"""Cost of the decision-tree container's real server per content type, against the same work in-process.

Run from the repository root as a module: `.venv/bin/python -m bench.container_bench`.

Setup: the real `train` program fits a tree on a dataset scikit-learn ships (breast_cancer, 30 features,
by default) in a temporary /opt/ml tree; the real `serve` program then runs on loopback, behind the pinned
nginx when `make nginx` has unpacked it (else, or with --front gunicorn, gunicorn alone). Measurements:

(a) bulk, for each content type (text/csv, application/json, application/x-npy; the answer in the same
    type): one `POST /invocations` carrying --rows rows, --repeat times. Per request: the client-side wall
    time, and the server's CPU time (user + system of every process under `serve`, from /proc). Against it,
    in this process with the container's own code: decode + predict + encode of the same body, and
    `predict()` alone on the rows already in memory. The figure of merit is server wall / in-process
    decode+predict+encode (goal <= 1.3x).
(b) load: --clients threads, each with its own keep-alive connection, send --requests single-row CSV
    requests in all; latency percentiles (p99 is the figure) and throughput.

Figures go to stdout and to bench/out/container_bench.json. This is a measurement, not a test: it never
fails on a goal. It exits 1 when the server does not start or answers a request wrongly. The server is always
stopped (SIGTERM, then SIGKILL); the run ends within --time-limit + a few seconds.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.datasets import load_breast_cancer, load_iris

from containers.decision_tree.decision_tree.predictor import (
    CSV,
    JSON,
    NPY,
    PARSERS,
    LoadedModel,
)
from containers.decision_tree.decision_tree.serve import available_cpus

ROOT = Path(__file__).resolve().parent.parent
OUT_FILE = ROOT / "bench" / "out" / "container_bench.json"
PACKAGE = "containers.decision_tree.decision_tree"
CACHED_NGINX = ROOT / ".cache" / "nginx" / "usr" / "sbin" / "nginx"
DATASETS: dict[str, Callable[..., Any]] = {"iris": load_iris, "breast_cancer": load_breast_cancer}
CONTENT_TYPES = (CSV, JSON, NPY)
RATIO_GOAL = 1.3
SERVER_START_SECONDS = 30.0
STOP_SECONDS = 25.0
TEARDOWN_RESERVE_SECONDS = 3.0
SOCKET_TIMEOUT_SECONDS = 30.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The bench cannot measure: the server did not start, answered wrongly, or time ran out."""


@dataclass(frozen=True)
class Settings:
    dataset: str
    rows: int
    repeat: int
    clients: int
    requests: int
    workers: int | None
    front: str
    time_limit: float


@dataclass
class Deadline:
    seconds: float
    start: float = field(default_factory=time.monotonic)

    @property
    def remaining(self) -> float:
        return self.seconds - (time.monotonic() - self.start)

    def check(self, phase: str) -> None:
        if self.remaining <= 0:
            raise BenchError(f"time limit of {self.seconds:.0f} s reached during {phase}")


def milliseconds(seconds: float) -> float:
    return seconds * 1000.0


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, int(np.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def timed(function: Callable[[], object], repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        runs.append(time.perf_counter() - start)
    return runs


def encode_body(rows: npt.NDArray[np.float64], content_type: str) -> bytes:
    """The body a client would send: repr() text for CSV and JSON (shortest exact form), np.save for x-npy
    (what the SageMaker SDK's NumpySerializer sends)."""
    if content_type == CSV:
        return "".join(",".join(repr(value) for value in row) + "\n" for row in rows.tolist()).encode()
    if content_type == JSON:
        return json.dumps({"instances": rows.tolist()}).encode()
    buffer = io.BytesIO()
    np.save(buffer, rows)
    return buffer.getvalue()


def encode_answer(model: LoadedModel, predictions: npt.NDArray[Any], content_type: str) -> bytes:
    if content_type == CSV:
        return model.to_csv(predictions).encode()
    if content_type == JSON:
        return model.to_json(predictions)
    return model.to_npy(predictions)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment() -> dict[str, str]:
    """The parent's environment without variables that would change how the programs run."""
    prefixes = ("SM_", "MODEL_SERVER_", "SAGEMAKER_", "SERVE_")
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(prefixes) and name != "OPT_ML"
    }


def train_model(base: Path, dataset: str, deadline: Deadline) -> tuple[Any, npt.NDArray[np.float64], str]:
    """Fit with the real `train` program; return the loaded model, the features and its stdout."""
    features, labels = DATASETS[dataset](return_X_y=True)
    features = np.asarray(features, dtype=np.float64)
    channel = base / "input" / "data" / "train"
    channel.mkdir(parents=True)
    np.savetxt(channel / f"{dataset}.csv", np.column_stack([labels, features]), delimiter=",", fmt="%.17g")
    config = base / "input" / "config"
    config.mkdir(parents=True)
    (config / "hyperparameters.json").write_text("{}")
    env = {**clean_environment(), "OPT_ML": str(base)}
    result = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.train"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=max(1.0, deadline.remaining),
        check=False,
    )
    if result.returncode != 0:
        raise BenchError(f"train exited with {result.returncode}:\n{result.stderr}")
    return joblib.load(base / "model" / "model.joblib"), features, result.stdout


def request(
    connection: http.client.HTTPConnection,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str = CSV,
) -> tuple[int, bytes]:
    headers = {"Content-Type": content_type, "Accept": content_type} if body is not None else {}
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    return response.status, response.read()


def process_tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of `root_pid` and every process under it (nginx, gunicorn, workers)."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for process_dir in Path("/proc").iterdir():
        entry = process_dir.name
        if not entry.isdigit():
            continue
        try:
            stat = (process_dir / "stat").read_text()
        except OSError:
            continue
        # The command name may hold spaces; the fields after its closing parenthesis do not.
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry)] = int(fields[1])
        times[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    tree = {root_pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return sum(times.get(pid, 0.0) for pid in tree)


@dataclass(frozen=True)
class Server:
    port: int
    pid: int
    front: str


@contextmanager
def running_server(base: Path, settings: Settings, log_file: Path, deadline: Deadline) -> Iterator[Server]:
    """The real `serve` program on a free loopback port, ready; stopped on exit whatever happened."""
    port = free_port()
    env = {
        **clean_environment(),
        "OPT_ML": str(base),
        "SERVE_WITHOUT_NGINX": "1" if settings.front == "gunicorn" else "0",
        "MODEL_SERVER_HOST": "127.0.0.1",
        "SAGEMAKER_BIND_TO_PORT": str(port),
        # 10,000 rows of 30 features as JSON text are about 6 MB: over InvokeEndpoint's 6 MiB default.
        "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20",
    }
    if settings.front == "nginx":
        env["PATH"] = f"{CACHED_NGINX.parent}{os.pathsep}{env.get('PATH', '')}"
    if settings.workers is not None:
        env["SAGEMAKER_MODEL_SERVER_WORKERS"] = str(settings.workers)
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        wait_until_ready(server, port, log_file, deadline)
        yield Server(port, server.pid, settings.front)
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def wait_until_ready(server: subprocess.Popen[bytes], port: int, log_file: Path, deadline: Deadline) -> None:
    limit = time.monotonic() + min(SERVER_START_SECONDS, max(0.0, deadline.remaining))
    while time.monotonic() < limit:
        if server.poll() is not None:
            raise BenchError(
                f"serve exited with {server.returncode}:\n{log_file.read_text(errors='replace')}"
            )
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            if request(connection, "GET", "/ping")[0] == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.05)
    raise BenchError(f"serve did not answer /ping in time:\n{log_file.read_text(errors='replace')}")


@dataclass
class BulkResult:
    content_type: str
    body_bytes: int
    server_wall: list[float]
    server_cpu_per_request: float
    in_process: list[float]
    in_process_decode: list[float]
    predict_only: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.server_wall) / statistics.median(self.in_process)

    @property
    def ratio_to_predict(self) -> float:
        return statistics.median(self.server_wall) / statistics.median(self.predict_only)


def measure_bulk(
    server: Server,
    model: Any,
    rows: npt.NDArray[np.float64],
    content_type: str,
    *,
    settings: Settings,
    deadline: Deadline,
) -> BulkResult:
    body = encode_body(rows, content_type)
    loaded = LoadedModel.from_estimator(model, source=Path("model.joblib"))
    parse = PARSERS[content_type]
    expected = encode_answer(loaded, loaded.predict(rows), content_type)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT_SECONDS)

    def one_request() -> None:
        status, answer = request(connection, "POST", "/invocations", body, content_type)
        if status != 200 or answer != expected:
            raise BenchError(f"{content_type}: /invocations answered {status}, not model.predict()'s answer")

    try:
        # Warm-up: every worker touches the code path before anything is timed.
        for _ in range(max(4, 2 * (settings.workers or available_cpus()))):
            one_request()
        deadline.check(f"{content_type} warm-up")
        cpu_before = process_tree_cpu_seconds(server.pid)
        server_wall = []
        for _ in range(settings.repeat):
            server_wall.extend(timed(one_request, 1))
            deadline.check(f"{content_type} requests")
        cpu_per_request = (process_tree_cpu_seconds(server.pid) - cpu_before) / settings.repeat
    finally:
        connection.close()
    n_features = loaded.n_features
    return BulkResult(
        content_type=content_type,
        body_bytes=len(body),
        server_wall=server_wall,
        server_cpu_per_request=cpu_per_request,
        in_process=timed(
            lambda: encode_answer(loaded, loaded.predict(parse(body, n_features)), content_type),
            settings.repeat,
        ),
        in_process_decode=timed(lambda: parse(body, n_features), settings.repeat),
        predict_only=timed(lambda: model.predict(rows), settings.repeat),
    )


@dataclass
class LoadResult:
    latencies: list[float]
    failures: int
    seconds: float
    complete: bool

    def percentile_ms(self, fraction: float) -> float:
        return milliseconds(percentile(self.latencies, fraction))


def measure_load(
    server: Server, model: Any, features: npt.NDArray[np.float64], settings: Settings, deadline: Deadline
) -> LoadResult:
    bodies = [encode_body(features[index : index + 1], CSV) for index in range(len(features))]
    expected = [f"{label}\n".encode() for label in model.predict(features).tolist()]
    per_client = [settings.requests // settings.clients] * settings.clients
    for index in range(settings.requests % settings.clients):
        per_client[index] += 1
    latencies: list[list[float]] = [[] for _ in range(settings.clients)]
    failures = [0] * settings.clients
    start_together = threading.Barrier(settings.clients + 1)
    # Leave time to stop the server within the limit; clients stop early rather than overrun it.
    stop_at = time.monotonic() + deadline.remaining - TEARDOWN_RESERVE_SECONDS
    if time.monotonic() >= stop_at:
        raise BenchError(f"time limit of {deadline.seconds:.0f} s reached before the load phase")

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=SOCKET_TIMEOUT_SECONDS)
        start_together.wait()
        try:
            for count in range(per_client[number]):
                if time.monotonic() > stop_at:
                    return
                row = (number * 7919 + count) % len(bodies)
                started = time.perf_counter()
                try:
                    status, answer = request(connection, "POST", "/invocations", bodies[row])
                except (OSError, http.client.HTTPException):
                    failures[number] += 1
                    connection.close()
                    continue
                latencies[number].append(time.perf_counter() - started)
                if status != 200 or answer != expected[row]:
                    failures[number] += 1
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(number,), daemon=True) for number in range(settings.clients)
    ]
    for thread in threads:
        thread.start()
    start_together.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline.remaining))
    seconds = time.perf_counter() - started
    done = [value for values in latencies for value in values]
    return LoadResult(
        latencies=done,
        failures=sum(failures),
        seconds=seconds,
        complete=len(done) + sum(failures) == settings.requests,
    )


def print_report(settings: Settings, workers: int, bulks: list[BulkResult], load: LoadResult) -> None:
    def ms(runs: list[float]) -> str:
        return f"{milliseconds(statistics.median(runs)):9.2f}"

    print(
        f"per request of {settings.rows:,} rows ({settings.dataset}), medians of {settings.repeat}; "
        f"server: {settings.front}, {workers} worker(s)"
    )
    header = (
        f"{'content type':<20}{'body KiB':>10}{'wall ms':>10}{'CPU ms':>10}{'in-proc ms':>11}"
        f"{'decode ms':>10}{'predict ms':>11}{'wall/in-proc':>13}{'wall/predict':>13}"
    )
    print(header)
    for bulk in bulks:
        print(
            f"{bulk.content_type:<20}{bulk.body_bytes / 1024:>10,.0f} {ms(bulk.server_wall)}"
            f"{milliseconds(bulk.server_cpu_per_request):>10.2f} {ms(bulk.in_process)}"
            f" {ms(bulk.in_process_decode)}"
            f" {ms(bulk.predict_only)}{bulk.ratio:>12.2f}x{bulk.ratio_to_predict:>12.1f}x"
        )
    print(f"goal: wall / in-process decode+predict+encode <= {RATIO_GOAL}x")
    print(
        f"single row, {settings.clients} clients, CSV: p50 {load.percentile_ms(0.5):.2f} ms, "
        f"p90 {load.percentile_ms(0.9):.2f} ms, p99 {load.percentile_ms(0.99):.2f} ms, "
        f"{len(load.latencies) / load.seconds:,.0f} requests/s "
        f"({len(load.latencies)}/{settings.requests} answered, {load.failures} failed)"
    )


def write_json(
    settings: Settings, workers: int, bulks: list[BulkResult], load: LoadResult, train_stdout: str
) -> None:
    def series(runs: list[float]) -> dict[str, Any]:
        return {
            "median_ms": round(milliseconds(statistics.median(runs)), 4),
            "min_ms": round(milliseconds(min(runs)), 4),
            "max_ms": round(milliseconds(max(runs)), 4),
        }

    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "cpus_available": available_cpus(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scikit_learn": sklearn.__version__,
        },
        "settings": {
            "dataset": settings.dataset,
            "rows": settings.rows,
            "repeat": settings.repeat,
            "clients": settings.clients,
            "requests": settings.requests,
            "gunicorn_workers": workers,
            "front": settings.front,
        },
        "train_stdout": train_stdout.splitlines(),
        "bulk": {
            bulk.content_type: {
                "body_bytes": bulk.body_bytes,
                "server_wall": series(bulk.server_wall),
                "server_cpu_ms_per_request": round(milliseconds(bulk.server_cpu_per_request), 3),
                "in_process_decode_predict_encode": series(bulk.in_process),
                "in_process_decode": series(bulk.in_process_decode),
                "predict_only": series(bulk.predict_only),
                "ratio_to_in_process": round(bulk.ratio, 3),
                "ratio_goal": RATIO_GOAL,
                "ratio_to_predict": round(bulk.ratio_to_predict, 2),
            }
            for bulk in bulks
        },
        "load_csv_single_row": {
            "answered": len(load.latencies),
            "failed": load.failures,
            "complete": load.complete,
            "requests_per_second": round(len(load.latencies) / load.seconds, 1),
            "latency_ms": {
                name: round(load.percentile_ms(fraction), 4)
                for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
            },
        },
    }
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), default="breast_cancer", help="default breast_cancer"
    )
    parser.add_argument("--rows", type=int, default=10_000, help="rows in each bulk request (default 10000)")
    parser.add_argument(
        "--repeat", type=int, default=15, help="timed bulk runs per content type (default 15)"
    )
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients under load (default 8)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="single-row requests in all (default 2000)"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: one per CPU)")
    parser.add_argument(
        "--front",
        choices=("nginx", "gunicorn"),
        default="nginx" if CACHED_NGINX.is_file() else "gunicorn",
        help="nginx in front (the image's way; default when `make nginx` has run) or gunicorn alone",
    )
    parser.add_argument(
        "--time-limit", type=float, default=120.0, help="seconds before the server is stopped (default 120)"
    )
    args = parser.parse_args(argv)
    for name in ("rows", "repeat", "clients", "requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.requests < args.clients:
        parser.error("--requests must be at least --clients")
    if args.front == "nginx" and not CACHED_NGINX.is_file():
        parser.error("--front nginx needs `make nginx` first")
    return Settings(
        dataset=args.dataset,
        rows=args.rows,
        repeat=args.repeat,
        clients=args.clients,
        requests=args.requests,
        workers=args.workers,
        front=args.front,
        time_limit=args.time_limit,
    )


def main(argv: list[str] | None = None) -> int:
    settings = parse_args(argv)
    deadline = Deadline(settings.time_limit)
    workers = settings.workers or available_cpus()
    try:
        with tempfile.TemporaryDirectory(prefix="container-bench-") as tmp:
            base = Path(tmp) / "opt_ml"
            model, features, train_stdout = train_model(base, settings.dataset, deadline)
            print(f"trained on {settings.dataset}: {' '.join(train_stdout.split()[-4:])}")
            rows = features[np.random.default_rng(0).integers(0, len(features), settings.rows)]
            with running_server(base, settings, Path(tmp) / "serve.log", deadline) as server:
                bulks = [
                    measure_bulk(server, model, rows, content_type, settings=settings, deadline=deadline)
                    for content_type in CONTENT_TYPES
                ]
                load = measure_load(server, model, features, settings, deadline)
    except (BenchError, subprocess.TimeoutExpired) as error:
        print(f"container bench failed: {error}", file=sys.stderr)
        return 1
    if load.failures or not load.latencies:
        print(
            f"container bench failed: {load.failures} single-row requests failed, "
            f"{len(load.latencies)} answered",
            file=sys.stderr,
        )
        return 1
    print()
    print_report(settings, workers, bulks, load)
    if not load.complete:
        print(f"note: the time limit cut the load phase short ({len(load.latencies)} of {settings.requests})")
    write_json(settings, workers, bulks, load, train_stdout)
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
