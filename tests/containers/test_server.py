"""The real `serve` program (gunicorn, no nginx) on loopback, spoken to over HTTP with urllib."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pytest

from tests.containers.conftest import (
    PACKAGE,
    PROGRAM_TIMEOUT_SECONDS,
    ROOT,
    Dataset,
    HttpReply,
    ServerProcess,
    TrainedTree,
    http,
    imported_of,
    needs_nginx,
    nginx_binary,
    program_environment,
    run_reporting_at_exit,
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
    process = ServerProcess(
        trained_iris.base, tmp_path / "serve.log", {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"}
    )
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


def test_serve_checks_its_settings_without_importing_the_app(tmp_path: Path) -> None:
    """serve's own start costs no numpy, pandas or Flask: gunicorn's master imports the app, once."""
    env = program_environment(tmp_path, {"SERVE_WITHOUT_NGINX": "1", "MODEL_SERVER_MAX_PAYLOAD_BYTES": "6MB"})

    result, imported = run_reporting_at_exit(
        "serve", env, tmp_path / "imported", imported_of(("numpy", "pandas", "flask", "sklearn"))
    )

    assert result.returncode == 2, result.stderr
    assert "MODEL_SERVER_MAX_PAYLOAD_BYTES must be a whole number >= 0, got '6MB'" in result.stderr
    assert imported == ""


def test_ping_is_503_while_the_model_is_missing(tmp_path: Path) -> None:
    process = ServerProcess(tmp_path, tmp_path / "serve.log", {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"})
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


# --- Stopping: a request in flight when SIGTERM arrives is answered in full ------------------------------


def _start_request_and_hold_body(server: ServerProcess, body: bytes) -> socket.socket:
    """Send the headers of a CSV request with `Expect: 100-continue` and wait for the 100: from then on the
    request is in the server's hands (a gunicorn worker, or nginx), with its body still to come."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=20)
    connection.sendall(
        b"POST /invocations HTTP/1.1\r\nHost: test\r\nContent-Type: text/csv\r\n"
        + f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n".encode()
    )
    interim = b""
    while b"\r\n\r\n" not in interim:
        chunk = connection.recv(1024)
        assert chunk, f"connection closed before 100 Continue:\n{server.log()}"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100 Continue"), interim
    return connection


def _finish_request(connection: socket.socket, body: bytes) -> tuple[int, bytes]:
    connection.sendall(body)
    answer = b""
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        answer += chunk
        head, _, rest = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: (\d+)", head)
        if length and len(rest) >= int(length.group(1)):
            break
    connection.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), rest


def _refuses_connections(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.parametrize(
    "with_nginx", [pytest.param(True, marks=needs_nginx), False], ids=["nginx", "gunicorn"]
)
def test_sigterm_lets_a_request_in_flight_finish(
    trained_iris: TrainedTree, iris: Dataset, tmp_path: Path, with_nginx: bool
) -> None:
    model = joblib.load(trained_iris.model_dir / "model.joblib")
    body = rows_as_csv(iris.features)
    server = ServerProcess(
        trained_iris.base,
        tmp_path / "serve.log",
        {"SAGEMAKER_MODEL_SERVER_WORKERS": "1"},
        with_nginx=with_nginx,
    )
    try:
        server.wait_until_ready()
        connection = _start_request_and_hold_body(server, body)

        server.process.send_signal(signal.SIGTERM)
        if with_nginx:
            # nginx has taken the graceful stop once it no longer listens; the request it holds goes on.
            deadline = time.monotonic() + 20
            while not _refuses_connections(server.port):
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.05)
        else:
            server.wait_for_log("Handling signal: term")
            # gunicorn's master passes TERM on to the worker just after logging it; this leaves it time to
            # arrive (were it late, the request would still pass, only without testing the stop).
            time.sleep(0.5)
        status, answer = _finish_request(connection, body)

        assert status == 200, server.log()
        assert answer.decode().splitlines() == [str(label) for label in model.predict(iris.features).tolist()]
        assert server.process.wait(timeout=30) == 0, server.log()
        if with_nginx:
            assert "nginx stopped (SIGQUIT, status 0)" in server.log()
        assert "gunicorn stopped (SIGTERM, status 0)" in server.log()
    finally:
        server.stop()


# --- Through the real nginx -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx_server(
    trained_iris: TrainedTree, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    if nginx_binary() is None:
        pytest.skip("no nginx: `make nginx` unpacks the pinned Debian package into .cache/")
    process = ServerProcess(
        trained_iris.base,
        tmp_path_factory.mktemp("nginx") / "serve.log",
        {"MODEL_SERVER_MAX_PAYLOAD_BYTES": str(64 * 1024)},
        with_nginx=True,
    )
    try:
        process.wait_until_ready()
        yield process
    finally:
        process.stop()


def test_nginx_forwards_predictions(
    nginx_server: ServerProcess, trained_iris: TrainedTree, iris: Dataset
) -> None:
    model = joblib.load(trained_iris.model_dir / "model.joblib")

    reply = http(f"{nginx_server.url}/invocations", body=rows_as_csv(iris.features), headers=CSV_HEADERS)

    assert reply.status == 200
    assert reply.text.splitlines() == [str(label) for label in model.predict(iris.features).tolist()]


def _raw_exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


@dataclass(frozen=True)
class ErrorCase:
    method: str
    path: str
    body: bytes | None
    headers: dict[str, str]
    status: int


@pytest.mark.parametrize("front", ["nginx", "gunicorn"])
@pytest.mark.parametrize(
    "case",
    [
        ErrorCase("GET", "/nowhere", None, {}, 404),
        ErrorCase("DELETE", "/invocations", None, {}, 405),
        ErrorCase("GET", "/invocations", None, {}, 405),
        ErrorCase(
            "POST", "/invocations", b"[" * 5000 + b"]" * 5000, {"Content-Type": "application/json"}, 400
        ),
        ErrorCase("POST", "/invocations", b"5.1,3.5,1.4,0.2\n" * 5000, CSV_HEADERS, 413),
    ],
    ids=["not-found", "delete", "get-invocations", "nested-json", "too-large"],
)
def test_every_error_is_text(request: pytest.FixtureRequest, front: str, case: ErrorCase) -> None:
    server: ServerProcess = request.getfixturevalue("nginx_server" if front == "nginx" else "server")
    http_request = urllib.request.Request(
        f"{server.url}{case.path}", data=case.body, headers=case.headers, method=case.method
    )
    try:
        with urllib.request.urlopen(http_request, timeout=10) as response:
            reply = HttpReply(response.status, response.headers.get("Content-Type", ""), response.read())
    except urllib.error.HTTPError as error:
        with error:
            reply = HttpReply(error.code, error.headers.get("Content-Type", ""), error.read())

    assert reply.status == case.status
    assert reply.content_type.startswith("text/plain"), reply
    assert b"<" not in reply.body
    assert_good_request_succeeds(server)


@pytest.mark.parametrize("front", ["nginx", "gunicorn"])
def test_a_request_that_is_not_http_gets_a_text_400(request: pytest.FixtureRequest, front: str) -> None:
    server: ServerProcess = request.getfixturevalue("nginx_server" if front == "nginx" else "server")

    answer = _raw_exchange(server.port, b"NOT HTTP AT ALL\r\n\r\n")

    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == b"400", answer
    assert re.search(rb"(?i)^content-type: text/plain", head, re.MULTILINE), answer
    assert b"<" not in body


def test_nginx_answers_in_text_when_gunicorn_is_gone(nginx_server: ServerProcess) -> None:
    match = re.search(r"started gunicorn \(pid (\d+)\) on unix:(\S+)", nginx_server.log())
    assert match is not None, nginx_server.log()
    socket_path = Path(match.group(2))
    # The socket vanishes: as if gunicorn had not started yet. nginx cannot connect. The module's server is
    # borrowed: the socket gets its name back however the test ends, and serves the next test as before.
    socket_path.rename(socket_path.with_name(socket_path.name + ".moved"))
    try:
        reply = http(f"{nginx_server.url}/ping")
    finally:
        socket_path.with_name(socket_path.name + ".moved").rename(socket_path)

    assert reply.status == 502
    assert reply.content_type.startswith("text/plain")
    assert "retry" in reply.text
    assert_good_request_succeeds(nginx_server)


# --- Batch transform and the SageMaker settings -------------------------------------------------------------


@pytest.mark.parametrize("front", ["nginx", "gunicorn"])
def test_execution_parameters_report_the_workers_and_the_payload_limit(
    request: pytest.FixtureRequest, front: str
) -> None:
    server: ServerProcess = request.getfixturevalue("nginx_server" if front == "nginx" else "server")

    reply = http(f"{server.url}/execution-parameters")

    assert reply.status == 200
    assert reply.content_type == "application/json"
    # Two workers (conftest's SAGEMAKER_MODEL_SERVER_WORKERS); a 64 KiB limit rounds up to the least 1 MiB.
    assert json.loads(reply.body) == {
        "MaxConcurrentTransforms": 2,
        "BatchStrategy": "MULTI_RECORD",
        "MaxPayloadInMB": 1,
    }


def test_the_model_is_loaded_before_the_first_ping(trained_iris: TrainedTree, tmp_path: Path) -> None:
    model_base = tmp_path / "opt_ml"
    shutil.copytree(trained_iris.model_dir, model_base / "model")
    server = ServerProcess(model_base, tmp_path / "serve.log")
    try:
        # Wait on a route that needs no model, then take the model file away: only a model loaded at
        # start can still answer.
        deadline = time.monotonic() + 20
        while True:
            try:
                if http(f"{server.url}/execution-parameters", timeout=1).status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.process.poll() is None, server.log()
            time.sleep(0.05)
        (model_base / "model" / "model.joblib").unlink()

        assert http(f"{server.url}/ping").status == 200
        reply = http(f"{server.url}/invocations", body=GOOD_ROWS, headers=CSV_HEADERS)
        assert (reply.status, reply.text) == (200, "0\n2\n")
    finally:
        server.stop()


def test_npy_bodies_from_the_sdk_serializer(
    server: ServerProcess, trained_iris: TrainedTree, iris: Dataset
) -> None:
    model = joblib.load(trained_iris.model_dir / "model.joblib")
    buffer = io.BytesIO()
    np.save(buffer, iris.features)  # what sagemaker.serializers.NumpySerializer sends

    reply = http(
        f"{server.url}/invocations",
        body=buffer.getvalue(),
        headers={"Content-Type": "application/x-npy", "Accept": "application/x-npy"},
    )

    assert reply.status == 200
    assert reply.content_type == "application/x-npy"
    np.testing.assert_array_equal(np.load(io.BytesIO(reply.body)), model.predict(iris.features))
