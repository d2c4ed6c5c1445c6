"""Loaded by gunicorn as its configuration module (`--config python:<package>.gunicorn_config`).

gunicorn answers requests it cannot parse (a bad request line, oversized headers, a broken chunk) itself,
with an HTML page. SageMaker's callers expect text, so its error writer is replaced here, in the master
before the workers fork, by one that sends the same status with a `text/plain` body.
"""

from __future__ import annotations

import socket

from gunicorn import util


def write_plain_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    body = f"{status_int} {reason}: {mesg}\n" if mesg else f"{status_int} {reason}\n"
    encoded = body.encode("utf-8", errors="replace")
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(encoded)}\r\n\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + encoded)


util.write_error = write_plain_error
