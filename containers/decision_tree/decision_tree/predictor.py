"""The inference app (Flask): `GET /ping` and `POST /invocations`, the two routes SageMaker calls.

`GET /ping` answers 200 once the model loads, 503 (with the reason) while it cannot. The model
(`<model dir>/model.joblib`, see `paths.py`) is loaded on first use and then kept for the life of the
process, so each gunicorn worker loads it once; a failed load is retried on the next request.

`POST /invocations` request bodies (`Content-Type`, parameters such as charset ignored; UTF-8):
- `text/csv`: one row of features per line, comma-separated, no label column, no header.
- `application/json`: `{"instances": [[f1, f2, ...], ...]}` or just the list of rows `[[f1, f2, ...], ...]`.

Responses, by the `Accept` header (missing or `*/*` means `text/csv`):
- `text/csv`: one predicted class per line, in request order.
- `application/json`: `{"predictions": [c1, c2, ...]}`.

Errors are `text/plain` messages that say what was expected and what arrived, and the server carries on:
400 for an empty or malformed body, a value that is not a finite number or the wrong number of features per
row; 406 for an `Accept` it cannot produce; 413 for a body over the payload limit; 415 for any other
`Content-Type`. The payload limit is `MODEL_SERVER_MAX_PAYLOAD_BYTES` if set, else the batch-transform
variable `SAGEMAKER_MAX_PAYLOAD_IN_MB` (MiB), else 6 MiB (InvokeEndpoint's own limit); 0 means no limit.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import joblib
import numpy as np
import numpy.typing as npt
from flask import Flask, Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_accept_header

from .csv_matrix import CsvFormatError, FloatMatrix, parse_csv_matrix
from .paths import MODEL_FILE, resolve_paths

CSV = "text/csv"
JSON = "application/json"
# The order matters: with `Accept: */*` (or none) the first wins.
RESPONSE_TYPES = (CSV, JSON)
MAX_PAYLOAD_VARIABLE = "MODEL_SERVER_MAX_PAYLOAD_BYTES"
BATCH_MAX_PAYLOAD_VARIABLE = "SAGEMAKER_MAX_PAYLOAD_IN_MB"
MIB = 1024 * 1024
DEFAULT_MAX_PAYLOAD_BYTES = 6 * MIB
STORE_EXTENSION = "decision_tree.model_store"
# nginx.conf's client_max_body_size: the largest body nginx reads before passing it on.
FRONT_END_MAX_BODY_BYTES = 100 * MIB
DRAIN_CHUNK_BYTES = 256 * 1024


class ModelUnavailableError(RuntimeError):
    """The model cannot be loaded (yet); the message says why."""


class BadRequestError(Exception):
    """A client error: the HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class LoadedModel:
    """A fitted classifier and what serving needs to know about it."""

    estimator: Any
    n_features: int
    # The sorted class values and their text forms, to write CSV without a per-row str().
    classes: npt.NDArray[Any] | None
    class_texts: npt.NDArray[np.str_] | None

    @classmethod
    def from_estimator(cls, estimator: Any, *, source: Path) -> LoadedModel:
        n_features = getattr(estimator, "n_features_in_", None)
        if not callable(getattr(estimator, "predict", None)) or not isinstance(n_features, int):
            raise ModelUnavailableError(
                f"{source} holds a {type(estimator).__name__}, not a fitted scikit-learn estimator"
            )
        classes = getattr(estimator, "classes_", None)
        # scikit-learn keeps classes_ sorted (np.unique); the lookup in to_csv relies on it.
        if isinstance(classes, np.ndarray) and classes.ndim == 1 and bool(np.all(classes[:-1] < classes[1:])):
            texts = np.array([str(value) for value in classes.tolist()])
            return cls(estimator, n_features, classes, texts)
        return cls(estimator, n_features, None, None)

    def predict(self, features: FloatMatrix) -> npt.NDArray[Any]:
        return np.asarray(self.estimator.predict(features))

    def to_csv(self, predictions: npt.NDArray[Any]) -> str:
        if self.classes is not None and self.class_texts is not None:
            texts: list[str] = self.class_texts[np.searchsorted(self.classes, predictions)].tolist()
        else:
            texts = [str(value) for value in predictions.tolist()]
        return "\n".join(texts) + "\n"

    @staticmethod
    def to_json(predictions: npt.NDArray[Any]) -> str:
        return json.dumps({"predictions": predictions.tolist()})


class ModelStore:
    """Loads the model on first use and keeps it for the life of the process (one per gunicorn worker)."""

    def __init__(self, model_file: Path) -> None:
        self.model_file = model_file
        self.loads = 0
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()

    def get(self) -> LoadedModel:
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                self._model = self._load()
            return self._model

    def _load(self) -> LoadedModel:
        if not self.model_file.is_file():
            raise ModelUnavailableError(
                f"no model at {self.model_file} (SageMaker extracts model.tar.gz into the model directory)"
            )
        try:
            estimator = joblib.load(self.model_file)
        except Exception as error:
            raise ModelUnavailableError(
                f"cannot load {self.model_file}: {type(error).__name__}: {error}"
            ) from error
        model = LoadedModel.from_estimator(estimator, source=self.model_file)
        self.loads += 1
        return model


def max_payload_bytes(environ: Mapping[str, str]) -> int | None:
    """The request-body limit in bytes from the environment (see the module docstring); None: no limit."""
    for name, unit in ((MAX_PAYLOAD_VARIABLE, 1), (BATCH_MAX_PAYLOAD_VARIABLE, MIB)):
        raw = environ.get(name, "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number >= 0, got {raw!r}") from None
        if value < 0:
            raise ValueError(f"{name} must be a whole number >= 0, got {raw!r}")
        return value * unit or None
    return DEFAULT_MAX_PAYLOAD_BYTES


def response_type(accept_header: str | None) -> str | None:
    """The media type to answer with, or None when the `Accept` header allows neither CSV nor JSON."""
    if not accept_header or not accept_header.strip():
        return CSV
    # Parameters (`text/csv; charset=utf-8`) would otherwise keep a media range from matching.
    ranges = parse_accept_header(accept_header)
    accept = MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in ranges])
    match: str | None = accept.best_match(RESPONSE_TYPES)
    return match


def features_from_csv(body: bytes, n_features: int) -> FloatMatrix:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadRequestError(400, f"text/csv body is not UTF-8: {error}") from None
    try:
        return parse_csv_matrix(text, expected_columns=n_features)
    except CsvFormatError as error:
        raise BadRequestError(400, f"text/csv body: {error} (send {n_features} features per row)") from None


def features_from_json(body: bytes, n_features: int) -> FloatMatrix:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequestError(400, f"application/json body is not valid JSON: {error}") from None
    shape_hint = f'send {{"instances": [[...], ...]}} or [[...], ...] with {n_features} numbers per row'
    rows = document.get("instances") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not rows:
        raise BadRequestError(400, f"application/json body has no rows: {shape_hint}")
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            raise BadRequestError(400, f"application/json row {index} is not a list: {shape_hint}")
        if len(row) != n_features:
            raise BadRequestError(
                400, f"application/json row {index}: expected {n_features} values, got {len(row)}"
            )
        for column, value in enumerate(row, start=1):
            if not _is_finite_number(value):
                raise BadRequestError(
                    400,
                    f"application/json row {index}, column {column}: {json.dumps(value)[:40]} "
                    "is not a finite number",
                )
    try:
        return np.array(rows, dtype=np.float64)
    except OverflowError as error:
        raise BadRequestError(400, f"application/json body: a value is out of range: {error}") from None


def _is_finite_number(value: object) -> bool:
    # Exact types: bool is an int subclass, and numpy would convert a numeric string silently. An int is
    # always finite (one too large for a float64 is caught when the array is built).
    return type(value) is int or (type(value) is float and math.isfinite(value))


PARSERS = {CSV: features_from_csv, JSON: features_from_json}


def _read_body(limit: int | None) -> bytes:
    """The request body; raises RequestEntityTooLarge when it is longer than `limit`.

    Werkzeug refuses a Content-Length over the limit, but stops reading a chunked body at the limit
    without a word; one more byte from the server's stream tells a body of exactly `limit` bytes from a
    longer one, which must not be cut silently.
    """
    body = request.get_data(cache=False)
    if (
        limit is not None
        and request.content_length is None
        and len(body) >= limit
        and request.environ["wsgi.input"].read(1)
    ):
        raise RequestEntityTooLarge()
    return body


def _discard_body(stream: BinaryIO, size: int) -> None:
    """Read and drop the rest of a body (at most `size` bytes), as nginx does for the bodies it accepts.

    Without nginx (SERVE_WITHOUT_NGINX), gunicorn would close the connection with the body unread, and a
    client still sending would get a reset instead of the 413 that says why.
    """
    remaining = size
    while remaining > 0:
        chunk = stream.read(min(DRAIN_CHUNK_BYTES, remaining))
        if not chunk:
            return
        remaining -= len(chunk)


def _text_response(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def create_app(*, model_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """The Flask app serving `<model_dir>/model.joblib` (default: the model directory of `paths.py`)."""
    env = os.environ if environ is None else environ
    store = ModelStore((model_dir or resolve_paths(env).model_dir) / MODEL_FILE)
    payload_limit = max_payload_bytes(env)
    app = Flask(__name__)
    # Werkzeug enforces it while the body is read, chunked bodies included; the handler below words it.
    app.config["MAX_CONTENT_LENGTH"] = payload_limit
    app.extensions[STORE_EXTENSION] = store

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(_: RequestEntityTooLarge) -> Response:
        size = request.content_length
        got = f"got {size} bytes" if size is not None else "the body is longer"
        message = f"request body too large: the limit is {payload_limit} bytes, {got}"
        app.logger.warning("413: %s", message)
        # A chunked body can be read to its end only when the server marks the input as terminated.
        if size is None and request.environ.get("wsgi.input_terminated"):
            _discard_body(request.environ["wsgi.input"], FRONT_END_MAX_BODY_BYTES)
        elif size is not None and size <= FRONT_END_MAX_BODY_BYTES:
            _discard_body(request.environ["wsgi.input"], size)
        return _text_response(413, f"{message}; split the rows over several requests")

    @app.get("/ping")
    def ping() -> Response:
        try:
            store.get()
        except ModelUnavailableError as error:
            app.logger.error("ping: %s", error)
            return _text_response(503, str(error))
        return Response("", status=200, mimetype="text/plain")

    @app.post("/invocations")
    def invocations() -> Response:
        try:
            content_type = request.mimetype
            parse = PARSERS.get(content_type)
            if parse is None:
                got = content_type or "none"
                raise BadRequestError(415, f"unsupported Content-Type {got!r}: send {CSV} or {JSON}")
            accept = response_type(request.headers.get("Accept"))
            if accept is None:
                raise BadRequestError(
                    406, f"cannot answer Accept {request.headers.get('Accept')!r}: ask for {CSV} or {JSON}"
                )
            body = _read_body(payload_limit)
            if not body.strip():
                raise BadRequestError(400, f"empty request body: send rows of features as {content_type}")
            try:
                model = store.get()
            except ModelUnavailableError as error:
                app.logger.error("invocations: %s", error)
                return _text_response(503, str(error))
            features = parse(body, model.n_features)
        except BadRequestError as error:
            app.logger.warning("%d: %s", error.status, error.message)
            return _text_response(error.status, error.message)
        predictions = model.predict(features)
        if accept == JSON:
            return Response(model.to_json(predictions), status=200, mimetype=JSON)
        return Response(model.to_csv(predictions), status=200, mimetype=CSV)

    return app


def model_store(app: Flask) -> ModelStore:
    """The app's model store (tests and tools inspect it)."""
    store = app.extensions[STORE_EXTENSION]
    assert isinstance(store, ModelStore)
    return store
