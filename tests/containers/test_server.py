"""The real `serve` program (gunicorn, no nginx) on loopback, spoken to over HTTP with urllib."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.containers.conftest import (
    PACKAGE,
    PROGRAM_TIMEOUT_SECONDS,
    ROOT,
    Dataset,
    ServerProcess,
    TrainedTree,
    http,
    program_environment,
)

CSV_HEADERS = {"Content-Type": "text/csv"}
GOOD_ROWS = b"5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"


def rows_as_csv(features: np.ndarray) -> bytes:
    return "".join(",".join(repr(float(value)) for value in row) + "\n" for row in features).encode()


def assert_good_request_succeeds(server: ServerProcess) -> None:
    reply = http(f"{server.url}/invocations", body=GOOD_ROWS, headers=CSV_HEADERS)
    assert reply.status == 200, reply.body
    assert reply.text == "0\n2\n"


def test_ping_answers_200(server: ServerProcess) -> None:
    assert http(f"{server.url}/ping").status == 200


def test_csv_predictions_match_the_trained_model(
    server: ServerProcess, trained_iris: TrainedTree, iris: Dataset
) -> None:
    model = joblib.load(trained_iris.model_dir / "model.joblib")
    # Every iris row, repeated and shuffled: 3,000 rows in one request.
    rows = iris.features[np.random.default_rng(0).integers(0, len(iris.features), 3000)]

    reply = http(f"{server.url}/invocations", body=rows_as_csv(rows), headers=CSV_HEADERS)

    assert reply.status == 200
    assert reply.content_type.startswith("text/csv")
    assert reply.text.splitlines() == [str(label) for label in model.predict(rows).tolist()]


def test_json_in_and_out(server: ServerProcess, trained_iris: TrainedTree, iris: Dataset) -> None:
    model = joblib.load(trained_iris.model_dir / "model.joblib")
    body = json.dumps({"instances": iris.features.tolist()}).encode()

    reply = http(
        f"{server.url}/invocations",
        body=body,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )

    assert reply.status == 200
    assert reply.content_type == "application/json"
    assert json.loads(reply.body) == {"predictions": model.predict(iris.features).tolist()}


@pytest.mark.parametrize(
    ("headers", "body", "status", "message"),
    [
        ({"Content-Type": "application/xml"}, GOOD_ROWS, 415, "unsupported Content-Type 'application/xml'"),
        (
            {"Content-Type": "text/csv", "Accept": "image/png"},
            GOOD_ROWS,
            406,
            "cannot answer Accept 'image/png'",
        ),
        (CSV_HEADERS, b"", 400, "empty request body"),
        (CSV_HEADERS, b"5.1,3.5,1.4,0.2\n6.7,3.0\n", 400, "line 2: expected 4 values, got 2"),
        (CSV_HEADERS, b"5.1,3.5,1.4,abc\n", 400, "line 1, column 4: 'abc' is not a number"),
        ({"Content-Type": "application/json"}, b"[[1, 2]]", 400, "row 1: expected 4 values, got 2"),
        (CSV_HEADERS, b"5.1,3.5,1.4,0.2\n" * 5000, 413, "the limit is 65536 bytes, got 80000 bytes"),
    ],
    ids=["content-type", "accept", "empty", "column-count", "non-numeric", "json-width", "oversized"],
)
def test_a_bad_request_gets_its_status_and_the_server_stays_up(
    server: ServerProcess, headers: dict[str, str], body: bytes, status: int, message: str
) -> None:
    reply = http(f"{server.url}/invocations", body=body, headers=headers)

    assert reply.status == status
    assert message in reply.text
    assert_good_request_succeeds(server)


def test_a_chunked_body_is_held_to_the_same_limit(server: ServerProcess) -> None:
    """Werkzeug stops reading a chunked body at the limit; the rest must be refused, not cut off."""
    row = b"5.1,3.5,1.4,0.2\n"  # 16 bytes: 4,096 rows are exactly the 64 KiB limit
    exactly_the_limit = http(f"{server.url}/invocations", body=iter([row * 2048] * 2), headers=CSV_HEADERS)
    one_row_more = http(f"{server.url}/invocations", body=iter([row * 2048] * 2 + [row]), headers=CSV_HEADERS)

    assert exactly_the_limit.status == 200, exactly_the_limit.body
    assert exactly_the_limit.text == "0\n" * 4096
    assert one_row_more.status == 413
    assert "the limit is 65536 bytes, the body is longer" in one_row_more.text
    assert_good_request_succeeds(server)


def test_a_worker_survives_many_requests_in_a_row(server: ServerProcess) -> None:
    statuses = [
        http(f"{server.url}/invocations", body=GOOD_ROWS, headers=CSV_HEADERS).status for _ in range(50)
    ]

    assert statuses == [200] * 50


@pytest.fixture
def own_server(trained_iris: TrainedTree, tmp_path: Path) -> Iterator[ServerProcess]:
    """A server for a test that ends it; stopped afterwards whatever happened."""
    process = ServerProcess(trained_iris.base, tmp_path / "serve.log", {"MODEL_SERVER_WORKERS": "1"})
    try:
        process.wait_until_ready()
        yield process
    finally:
        process.stop()


def test_sigterm_stops_everything_and_exits_0(own_server: ServerProcess) -> None:
    status = own_server.stop(timeout=15)

    assert status == 0, own_server.log()
    assert "received SIGTERM; stopping gunicorn" in own_server.log()
    with pytest.raises(OSError, match="Connection refused"):
        http(f"{own_server.url}/ping", timeout=2)


def test_serve_exits_non_zero_when_gunicorn_dies(own_server: ServerProcess) -> None:
    match = re.search(r"started gunicorn \(pid (\d+)\)", own_server.log())
    assert match is not None, own_server.log()

    # gunicorn's own graceful stop: the master exits 0 after its worker, as if it had ended on its own.
    os.kill(int(match.group(1)), signal.SIGTERM)
    status = own_server.process.wait(timeout=15)

    assert status == 1, own_server.log()
    assert "gunicorn exited with status 0; stopping the rest" in own_server.log()


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({}, "nginx is not on PATH; set SERVE_WITHOUT_NGINX=1 to run gunicorn alone"),
        ({"SERVE_WITHOUT_NGINX": "maybe"}, "SERVE_WITHOUT_NGINX must be 1/true or 0/false, got 'maybe'"),
        (
            {"SERVE_WITHOUT_NGINX": "1", "MODEL_SERVER_WORKERS": "0"},
            "MODEL_SERVER_WORKERS must be at least 1",
        ),
        (
            {"SERVE_WITHOUT_NGINX": "1", "MODEL_SERVER_MAX_PAYLOAD_BYTES": "6MB"},
            "MODEL_SERVER_MAX_PAYLOAD_BYTES must be a whole number >= 0, got '6MB'",
        ),
    ],
    ids=["no-nginx", "bad-flag", "bad-workers", "bad-payload-limit"],
)
def test_serve_refuses_bad_settings_before_starting_anything(
    tmp_path: Path, trained_iris: TrainedTree, environment: dict[str, str], message: str
) -> None:
    # An empty PATH: nginx cannot be found even where it is installed; gunicorn runs from sys.executable.
    env = program_environment(trained_iris.base, {"PATH": str(tmp_path), **environment})

    result = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=PROGRAM_TIMEOUT_SECONDS,
        check=False,
    )

    assert result.returncode == 2
    assert message in result.stderr
    assert "started gunicorn" not in result.stderr


def test_ping_is_503_while_the_model_is_missing(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, tmp_path / "serve.log", {"MODEL_SERVER_WORKERS": "1"})
    try:
        deadline = time.monotonic() + 20
        reply = None
        while time.monotonic() < deadline and process.process.poll() is None:
            try:
                reply = http(f"{process.url}/ping", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        assert reply is not None, process.log()
        assert reply.status == 503
        assert "no model at" in reply.text
        # The worker is still there: a later ping gets the same answer rather than a refused connection.
        assert http(f"{process.url}/ping", timeout=2).status == 503
    finally:
        assert process.stop() == 0
    assert signal.SIGTERM.name in process.log()
