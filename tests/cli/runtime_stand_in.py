"""A stand-in for the SageMaker runtime on loopback: `POST /endpoints/<name>/invocations` over real HTTP.

Each endpoint is a WSGI app (the tests use the real decision-tree inference app); the stand-in forwards
the body, Content-Type and Accept to the app's `POST /invocations` and answers as the runtime does:
- the app's 2xx: 200 with the app's body and Content-Type;
- the app's 4xx or 5xx: 424 ModelError, a JSON body with OriginalStatusCode and OriginalMessage and the
  header `x-amzn-ErrorType: ModelError` (the shape of botocore's sagemaker-runtime model, so boto3 raises
  `ModelError` with those fields);
- an endpoint it does not know: 400 ValidationError "Endpoint <name> of account <id> not found.".

Every request is recorded (path, headers, body), so tests can check what boto3 sent and signed.
"""

from __future__ import annotations

import json
import re
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import botocore.httpsession
import pytest
from flask import Flask

ACCOUNT = "123456789012"
LOOPBACK = "127.0.0.1"
INVOCATIONS_PATH = re.compile(r"/endpoints/(?P<name>[^/]+)/invocations")
# The region of a SigV4 signature: Credential=<key>/<date>/<region>/<service>/aws4_request.
CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request")


@dataclass(frozen=True)
class RecordedRequest:
    endpoint: str
    headers: Mapping[str, str]
    body: bytes

    @property
    def signed_region(self) -> str | None:
        """The region in the request's SigV4 credential scope (None if unsigned)."""
        match = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        return match["region"] if match else None

    @property
    def signed_service(self) -> str | None:
        match = CREDENTIAL_SCOPE.search(self.headers.get("Authorization", ""))
        return match["service"] if match else None


class RuntimeStandIn:
    """The runtime API of the given endpoints (name -> WSGI app), on a free loopback port."""

    def __init__(self, endpoints: Mapping[str, Flask], *, region: str) -> None:
        self.endpoints = dict(endpoints)
        self.region = region
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._server = _QuietServer((LOOPBACK, 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="runtime-stand-in", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def answer(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The runtime's status, headers and body for one request."""
        match = INVOCATIONS_PATH.fullmatch(urlsplit(path).path)
        if match is None:
            return _error(404, "UnknownOperationException", f"no operation at {path}")
        name = unquote(match["name"])
        with self._lock:
            self.requests.append(RecordedRequest(endpoint=name, headers=dict(headers), body=body))
        app = self.endpoints.get(name)
        if app is None:
            return _error(400, "ValidationError", f"Endpoint {name} of account {ACCOUNT} not found.")
        forwarded = {key: headers[key] for key in ("Content-Type", "Accept") if key in headers}
        reply = app.test_client().post("/invocations", data=body, headers=forwarded)
        if reply.status_code < 400:
            return (
                200,
                {"Content-Type": reply.content_type, "x-Amzn-Invoked-Production-Variant": "AllTraffic"},
                reply.data,
            )
        original = reply.get_data(as_text=True)
        kind = "client" if reply.status_code < 500 else "server"
        log_stream = (
            f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{name}:"
            "log-stream:AllTraffic/i-0123456789abcdef0"
        )
        return _error(
            424,
            "ModelError",
            f'Received {kind} error ({reply.status_code}) from primary with message "{original}". See '
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}#logEventViewer:"
            f"group=/aws/sagemaker/Endpoints/{name} in account {ACCOUNT} for more information.",
            OriginalStatusCode=reply.status_code,
            OriginalMessage=original,
            LogStreamArn=log_stream,
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, headers, payload = stand_in.answer(self.path, dict(self.headers.items()), body)
                self.send_response(status)
                for key, value in {**headers, "Content-Length": str(len(payload))}.items():
                    self.send_header(key, value)
                self.send_header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: pytest shows a failing test's own output, not an access log."""

        return Handler


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (a test's timeout) is expected; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error(status: int, code: str, message: str, **fields: Any) -> tuple[int, dict[str, str], bytes]:
    """An error as the runtime sends it: the code in x-amzn-ErrorType, the fields in a JSON body."""
    document = {"ErrorCode": code, "Message": message, **fields}
    return (
        status,
        {"Content-Type": "application/json", "x-amzn-ErrorType": code},
        json.dumps(document).encode(),
    )


@contextmanager
def running(endpoints: Mapping[str, Flask], *, region: str) -> Iterator[RuntimeStandIn]:
    stand_in = RuntimeStandIn(endpoints, region=region)
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


def refuse_network_except_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Like tests.aws_fakes.refuse_network, but lets requests to 127.0.0.1 (the stand-in) through."""
    send = botocore.httpsession.URLLib3Session.send

    def loopback_only(self: botocore.httpsession.URLLib3Session, request: Any) -> Any:
        if urlsplit(request.url).hostname != LOOPBACK:
            raise AssertionError(f"a test tried to reach the network: {request.method} {request.url}")
        return send(self, request)

    monkeypatch.setattr(botocore.httpsession.URLLib3Session, "send", loopback_only)
