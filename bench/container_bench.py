#!/usr/bin/env python3
"""Latency of the decision-tree container's real server, against the model's own predict() time.

Run from the repository root as a module: `.venv/bin/python -m bench.container_bench`.

Setup: the real `train` program fits a tree on a dataset scikit-learn ships (iris by default) in a temporary
/opt/ml tree; the real `serve` program then runs on loopback without nginx (SERVE_WITHOUT_NGINX=1: gunicorn
alone, with --workers processes, default the server's own default of one per CPU). Two measurements:

(a) bulk: the client-side wall time of one `POST /invocations` carrying --rows CSV rows (connect, send,
    parse, predict, format, receive), median of --repeat runs, against `model.predict()` on the same rows
    already in memory as a float array, median of --repeat runs. Their ratio is the figure of merit
    (target <= 1.3x). The server's own steps (parse, predict, format) are also timed in-process, with the
    container's code, to show where the time goes.
(b) load: --clients threads, each with its own http.client connection (kept alive where the server allows
    it), send --requests single-row requests in total; the latency percentiles (target p99 < 10 ms) and
    the throughput.

Figures go to stdout as a table and to bench/out/container_bench.json. This is a measurement, not a test:
it never fails on a target. It exits 1 when the server does not start or answers a request wrongly. The
server is always stopped: SIGTERM, then SIGKILL after 5 s; the run ends within --time-limit + 5 seconds
(under a minute by default).
"""

from __future__ import annotations

import argparse
import http.client
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

from containers.decision_tree.decision_tree.predictor import LoadedModel, features_from_csv
from containers.decision_tree.decision_tree.serve import available_cpus

ROOT = Path(__file__).resolve().parent.parent
OUT_FILE = ROOT / "bench" / "out" / "container_bench.json"
PACKAGE = "containers.decision_tree.decision_tree"
DATASETS: dict[str, Callable[..., Any]] = {"iris": load_iris, "breast_cancer": load_breast_cancer}
BULK_RATIO_TARGET = 1.3
P99_TARGET_MS = 10.0
SERVER_START_SECONDS = 20.0
STOP_SECONDS = 5.0
TEARDOWN_RESERVE_SECONDS = 3.0
SOCKET_TIMEOUT_SECONDS = 10.0
CSV_HEADERS = {"Content-Type": "text/csv", "Accept": "text/csv"}


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


def rows_as_csv(features: npt.NDArray[np.float64]) -> bytes:
    # repr() is the shortest text that reads back to the same float, as a client would send it.
    return "".join(",".join(repr(value) for value in row) + "\n" for row in features.tolist()).encode()


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
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, bytes]:
    connection.request(method, path, body=body, headers=CSV_HEADERS if body is not None else {})
    response = connection.getresponse()
    return response.status, response.read()


@contextmanager
def running_server(base: Path, settings: Settings, log_file: Path, deadline: Deadline) -> Iterator[int]:
    """The real `serve` program on a free loopback port, ready; stopped on exit whatever happened."""
    port = free_port()
    env = {
        **clean_environment(),
        "OPT_ML": str(base),
        "SERVE_WITHOUT_NGINX": "1",
        "MODEL_SERVER_HOST": "127.0.0.1",
        "MODEL_SERVER_PORT": str(port),
    }
    if settings.workers is not None:
        env["MODEL_SERVER_WORKERS"] = str(settings.workers)
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", f"{PACKAGE}.serve"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    try:
        wait_until_ready(server, port, log_file, deadline)
        yield port
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
    rows: int
    body_bytes: int
    server_runs: list[float]
    predict_runs: list[float]
    parse_runs: list[float]
    inprocess_predict_runs: list[float]
    format_runs: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.server_runs) / statistics.median(self.predict_runs)


def measure_bulk(
    port: int, model: Any, features: npt.NDArray[np.float64], settings: Settings, deadline: Deadline
) -> BulkResult:
    rng = np.random.default_rng(0)
    rows = features[rng.integers(0, len(features), settings.rows)]
    body = rows_as_csv(rows)
    loaded = LoadedModel.from_estimator(model, source=Path("model.joblib"))
    expected = loaded.to_csv(loaded.predict(rows)).encode()

    def one_request() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT_SECONDS)
        try:
            status, answer = request(connection, "POST", "/invocations", body)
        finally:
            connection.close()
        if status != 200 or answer != expected:
            raise BenchError(f"/invocations answered {status} with a body that differs from model.predict()")

    # Warm-up: every worker loads the model and touches the code path before anything is timed.
    for _ in range(max(4, 2 * (settings.workers or available_cpus()))):
        one_request()
    deadline.check("bulk warm-up")
    server_runs: list[float] = []
    for _ in range(settings.repeat):
        server_runs.extend(timed(one_request, 1))
        deadline.check("bulk requests")
    matrix = np.array(rows, dtype=np.float64)
    predict_runs = timed(lambda: model.predict(matrix), settings.repeat)
    parsed = features_from_csv(body, loaded.n_features)
    predictions = loaded.predict(parsed)
    return BulkResult(
        rows=settings.rows,
        body_bytes=len(body),
        server_runs=server_runs,
        predict_runs=predict_runs,
        parse_runs=timed(lambda: features_from_csv(body, loaded.n_features), settings.repeat),
        inprocess_predict_runs=timed(lambda: loaded.predict(parsed), settings.repeat),
        format_runs=timed(lambda: loaded.to_csv(predictions), settings.repeat),
    )


@dataclass
class LoadResult:
    latencies: list[float]
    failures: int
    connections: int
    seconds: float
    complete: bool

    def percentile_ms(self, fraction: float) -> float:
        return milliseconds(percentile(self.latencies, fraction))


def measure_load(
    port: int, model: Any, features: npt.NDArray[np.float64], settings: Settings, deadline: Deadline
) -> LoadResult:
    bodies = [rows_as_csv(features[index : index + 1]) for index in range(len(features))]
    expected = [f"{label}\n".encode() for label in model.predict(features).tolist()]
    per_client = [settings.requests // settings.clients] * settings.clients
    for index in range(settings.requests % settings.clients):
        per_client[index] += 1
    latencies: list[list[float]] = [[] for _ in range(settings.clients)]
    failures = [0] * settings.clients
    connections = [0] * settings.clients
    start_together = threading.Barrier(settings.clients + 1)
    # Leave time to stop the server within the limit; clients stop early rather than overrun it.
    stop_at = time.monotonic() + deadline.remaining - TEARDOWN_RESERVE_SECONDS
    if time.monotonic() >= stop_at:
        raise BenchError(f"time limit of {deadline.seconds:.0f} s reached before the load phase")

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=SOCKET_TIMEOUT_SECONDS)
        start_together.wait()
        try:
            for count in range(per_client[number]):
                if time.monotonic() > stop_at:
                    return
                row = (number * 7919 + count) % len(bodies)
                if connection.sock is None:  # first request, or the server closed the last connection
                    connections[number] += 1
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
        connections=sum(connections),
        seconds=seconds,
        complete=len(done) + sum(failures) == settings.requests,
    )


def print_table(settings: Settings, workers: int, bulk: BulkResult, load: LoadResult) -> None:
    def stat(runs: list[float]) -> tuple[str, str, str]:
        return (
            f"{milliseconds(statistics.median(runs)):.3f}",
            f"{milliseconds(min(runs)):.3f}",
            f"{milliseconds(max(runs)):.3f}",
        )

    kib = bulk.body_bytes / 1024
    rows: list[tuple[str, ...]] = [
        ("measurement", "n", "median ms", "min ms", "max ms"),
        (
            f"POST /invocations, {bulk.rows:,} CSV rows ({kib:,.0f} KiB)",
            str(len(bulk.server_runs)),
            *stat(bulk.server_runs),
        ),
        (
            f"model.predict(), {bulk.rows:,} rows in memory",
            str(len(bulk.predict_runs)),
            *stat(bulk.predict_runs),
        ),
        ("  in-process: parse the CSV body", str(len(bulk.parse_runs)), *stat(bulk.parse_runs)),
        ("  in-process: predict", str(len(bulk.inprocess_predict_runs)), *stat(bulk.inprocess_predict_runs)),
        ("  in-process: format the CSV answer", str(len(bulk.format_runs)), *stat(bulk.format_runs)),
        (
            "single row under load",
            str(len(load.latencies)),
            f"{load.percentile_ms(0.5):.3f}",
            f"{milliseconds(min(load.latencies)):.3f}",
            f"{milliseconds(max(load.latencies)):.3f}",
        ),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if column == 0 else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
    print()
    ratio_verdict = "met" if bulk.ratio <= BULK_RATIO_TARGET else "missed"
    p99 = load.percentile_ms(0.99)
    p99_verdict = "met" if p99 < P99_TARGET_MS else "missed"
    print(
        f"bulk ratio /invocations : model.predict() = {bulk.ratio:.2f}x "
        f"(target <= {BULK_RATIO_TARGET}x: {ratio_verdict})"
    )
    print(
        f"single row under load: p50 {load.percentile_ms(0.5):.2f} ms, p90 {load.percentile_ms(0.9):.2f} ms, "
        f"p99 {p99:.2f} ms (target < {P99_TARGET_MS:g} ms: {p99_verdict}), "
        f"{len(load.latencies) / load.seconds:,.0f} requests/s"
    )
    print(
        f"  {settings.clients} clients, {len(load.latencies)}/{settings.requests} requests answered, "
        f"{load.failures} failed, {load.connections} connections opened, {workers} gunicorn worker(s), "
        f"dataset {settings.dataset}"
    )


def write_json(
    settings: Settings, workers: int, bulk: BulkResult, load: LoadResult, train_stdout: str
) -> None:
    def series(runs: list[float]) -> dict[str, Any]:
        return {
            "runs_ms": [round(milliseconds(run), 4) for run in runs],
            "median_ms": round(milliseconds(statistics.median(runs)), 4),
            "min_ms": round(milliseconds(min(runs)), 4),
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
            "worker_class": "sync",
            "nginx": False,
        },
        "train_stdout": train_stdout.splitlines(),
        "bulk": {
            "body_bytes": bulk.body_bytes,
            "invocations": series(bulk.server_runs),
            "model_predict": series(bulk.predict_runs),
            "ratio_median": round(bulk.ratio, 3),
            "ratio_target": BULK_RATIO_TARGET,
            "ratio_target_met": bulk.ratio <= BULK_RATIO_TARGET,
            "in_process": {
                "parse_csv": series(bulk.parse_runs),
                "predict": series(bulk.inprocess_predict_runs),
                "format_csv": series(bulk.format_runs),
            },
        },
        "load": {
            "answered": len(load.latencies),
            "failed": load.failures,
            "complete": load.complete,
            "connections_opened": load.connections,
            "seconds": round(load.seconds, 3),
            "requests_per_second": round(len(load.latencies) / load.seconds, 1),
            "latency_ms": {
                name: round(load.percentile_ms(fraction), 4)
                for name, fraction in (("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0))
            },
            "p99_target_ms": P99_TARGET_MS,
            "p99_target_met": load.percentile_ms(0.99) < P99_TARGET_MS,
        },
    }
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def parse_args(argv: list[str] | None) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="iris", help="default iris")
    parser.add_argument("--rows", type=int, default=10_000, help="rows in the bulk request (default 10000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed bulk runs (default 15); medians")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients under load (default 8)")
    parser.add_argument(
        "--requests", type=int, default=2000, help="single-row requests in all (default 2000)"
    )
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers (default: one per CPU)")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=50.0,
        help="seconds for the run before the server is stopped (default 50)",
    )
    args = parser.parse_args(argv)
    for name in ("rows", "repeat", "clients", "requests"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    if args.workers is not None and args.workers < 1:
        parser.error("--workers must be at least 1")
    if args.requests < args.clients:
        parser.error("--requests must be at least --clients")
    return Settings(
        dataset=args.dataset,
        rows=args.rows,
        repeat=args.repeat,
        clients=args.clients,
        requests=args.requests,
        workers=args.workers,
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
            with running_server(base, settings, Path(tmp) / "serve.log", deadline) as port:
                bulk = measure_bulk(port, model, features, settings, deadline)
                load = measure_load(port, model, features, settings, deadline)
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
    print_table(settings, workers, bulk, load)
    if not load.complete:
        print(f"note: the time limit cut the load phase short ({len(load.latencies)} of {settings.requests})")
    write_json(settings, workers, bulk, load, train_stdout)
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
