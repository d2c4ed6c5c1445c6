"""The inference app (Flask): the routes SageMaker calls, `GET /ping`, `POST /invocations` and, for batch
transform, `GET /execution-parameters`.

`GET /ping` answers 200 (empty body) once the model loads, 503 (with the reason) while it cannot. `wsgi.py`
loads the model when gunicorn starts (`--preload`, before the workers fork), so the first ping is answered
from memory; a model that failed to load is retried on each later request.

`POST /invocations` request bodies (`Content-Type`; parameters such as charset are ignored):
- `text/csv`: one row of features per line, comma-separated, no label column, no header (UTF-8).
- `application/json`: `{"instances": [[f1, f2, ...], ...]}` or just the list of rows `[[f1, f2, ...], ...]`.
- `application/x-npy`: one array as `numpy.save` writes it (what the SageMaker SDK's `NumpySerializer`
  sends): 2-D (rows x features), or 1-D for one row; integer or floating-point values.

Responses, by the `Accept` header; missing or `*/*` means `SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`, else
`text/csv`:
- `text/csv`: one predicted class per line, in request order.
- `application/json`: `{"predictions": [c1, c2, ...]}`.
- `application/x-npy`: the 1-D array of predictions, as `numpy.save` writes it.

Every error is a `text/plain` message that says what was expected and what arrived, and the server carries
on: 400 for an empty or malformed body (nesting too deep included), a value that is not a finite number or
the wrong number of features per row; 404 and 405 for other paths and methods; 406 for an `Accept` it
cannot produce; 413 for a body over the payload limit; 415 for any other `Content-Type`; 500 for a bug.
The payload limit is `MODEL_SERVER_MAX_PAYLOAD_BYTES` if set, else the batch-transform variable
`SAGEMAKER_MAX_PAYLOAD_IN_MB` (MiB), else 6 MiB (InvokeEndpoint's own limit); 0 means no limit.

`GET /execution-parameters` answers batch transform's question with JSON: `MaxConcurrentTransforms` is the
number of gunicorn workers (`SAGEMAKER_MODEL_SERVER_WORKERS`, which `serve` always sets), `BatchStrategy`
is `MULTI_RECORD` (a tree predicts many rows at once for little more than one) and `MaxPayloadInMB` is the
payload limit in whole MiB.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO

import joblib
import numpy as np
import numpy.typing as npt
import orjson
from flask import Flask, Response, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import parse_accept_header
from werkzeug.wrappers import Response as WerkzeugResponse

from .app_settings import CSV as CSV  # noqa: PLC0414  (re-exported, as JSON and NPY: bench uses them)
from .app_settings import JSON as JSON  # noqa: PLC0414
from .app_settings import MIB, RESPONSE_TYPES, WORKERS_VARIABLE, default_accept, max_payload_bytes
from .app_settings import NPY as NPY  # noqa: PLC0414
from .csv_matrix import CsvFormatError, FloatMatrix, parse_csv_matrix
from .paths import MODEL_FILE, resolve_paths

BATCH_STRATEGY = "MULTI_RECORD"
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
    def to_json(predictions: npt.NDArray[Any]) -> bytes:
        return orjson.dumps({"predictions": predictions.tolist()})

    @staticmethod
    def to_npy(predictions: npt.NDArray[Any]) -> bytes:
        buffer = io.BytesIO()
        np.save(buffer, predictions, allow_pickle=False)
        return buffer.getvalue()


class ModelStore:
    """Loads the model on first use and keeps it for the life of the process (one per gunicorn worker)."""

    def __init__(self, model_file: Path) -> None:
        self.model_file = model_file
        self.loads = 0
        self._model: LoadedModel | None = None
        self._lock = threading.Lock()

    def preload(self) -> None:
        """Load now if possible; a failure is left for /ping to report (and for the next request to retry)."""
        with contextlib.suppress(ModelUnavailableError):
            self.get()

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


def response_type(accept_header: str | None, default: str = CSV) -> str | None:
    """The media type to answer with, or None when the `Accept` header allows none that the app writes."""
    if not accept_header or not accept_header.strip():
        return default
    # Parameters (`text/csv; charset=utf-8`) would otherwise keep a media range from matching.
    ranges = parse_accept_header(accept_header)
    accept = MIMEAccept([(value.split(";", 1)[0].strip(), quality) for value, quality in ranges])
    # Among equally acceptable types the first wins, so a wildcard picks the default.
    candidates = (default, *(media_type for media_type in RESPONSE_TYPES if media_type != default))
    match: str | None = accept.best_match(candidates)
    return match


def features_from_csv(body: bytes, n_features: int) -> FloatMatrix:
    try:
        return parse_csv_matrix(body, expected_columns=n_features)
    except UnicodeDecodeError as error:
        raise BadRequestError(400, f"text/csv body is not UTF-8: {error}") from None
    except CsvFormatError as error:
        raise BadRequestError(400, f"text/csv body: {error} (send {n_features} features per row)") from None


def features_from_json(body: bytes, n_features: int) -> FloatMatrix:
    """Rows from JSON: a fast path for a well-formed body, a slow walk only to word what is wrong."""
    try:
        # orjson: several times faster than json, strict (no NaN), and with a nesting limit of its own
        # instead of a RecursionError.
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BadRequestError(400, f"application/json body is not valid JSON: {error}") from None
    rows = document.get("instances") if isinstance(document, dict) else document
    if (
        isinstance(rows, list)
        and rows
        and set(map(type, rows)) == {list}
        # Exact types: bool is an int subclass, and numpy would turn a numeric string into a number.
        and set(map(type, chain.from_iterable(rows))) <= {int, float}
    ):
        try:
            matrix = np.array(rows, dtype=np.float64)
        except OverflowError as error:
            raise BadRequestError(400, f"application/json body: a value is out of range: {error}") from None
        except ValueError:
            matrix = None  # ragged rows: the walk below says which
        if matrix is not None and matrix.ndim == 2 and matrix.shape[1] == n_features:
            if np.isfinite(matrix).all():
                return matrix
            raise BadRequestError(400, "application/json body: a value is too large for a float64")
    raise BadRequestError(400, _describe_json_problem(rows, n_features))


def _describe_json_problem(rows: object, n_features: int) -> str:
    shape_hint = f'send {{"instances": [[...], ...]}} or [[...], ...] with {n_features} numbers per row'
    if not isinstance(rows, list) or not rows:
        return f"application/json body has no rows: {shape_hint}"
    for index, row in enumerate(rows, start=1):
        if not isinstance(row, list):
            return f"application/json row {index} is not a list: {shape_hint}"
        if len(row) != n_features:
            return f"application/json row {index}: expected {n_features} values, got {len(row)}"
        for column, value in enumerate(row, start=1):
            if not _is_finite_number(value):
                # A nested value is named, not printed: its text could be megabytes deep.
                shown = (
                    "a list"
                    if isinstance(value, list)
                    else "an object"
                    if isinstance(value, dict)
                    else (json.dumps(value)[:40])
                )
                return f"application/json row {index}, column {column}: {shown} is not a finite number"
    return f"application/json body: {shape_hint}"


def _is_finite_number(value: object) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def features_from_npy(body: bytes, n_features: int) -> FloatMatrix:
    """Rows from `numpy.save` bytes; never unpickles (allow_pickle=False), so object arrays are refused."""
    try:
        array = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise BadRequestError(
            400, f"application/x-npy body is not one array as numpy.save writes it: {error}"
        ) from None
    if not isinstance(array, np.ndarray):  # an .npz archive loads as a mapping of arrays
        raise BadRequestError(400, "application/x-npy body is an .npz archive; send one array (numpy.save)")
    if array.dtype.kind not in "iuf":
        raise BadRequestError(400, f"application/x-npy array holds {array.dtype}; send integers or floats")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != n_features:
        raise BadRequestError(
            400,
            f"application/x-npy array has shape {array.shape}; send (rows, {n_features}) or ({n_features},)",
        )
    matrix = np.asarray(array, dtype=np.float64)
    if not np.isfinite(matrix).all():
        row, column = (int(index) + 1 for index in np.argwhere(~np.isfinite(matrix))[0])
        raise BadRequestError(400, f"application/x-npy row {row}, column {column}: not a finite number")
    return matrix


PARSERS = {CSV: features_from_csv, JSON: features_from_json, NPY: features_from_npy}


def _read_body(limit: int | None) -> bytes:
    """The request body; raises RequestEntityTooLarge when it is longer than `limit`.

    Werkzeug refuses a Content-Length over the limit, but stops reading a chunked body at the limit
    without a word; one more byte from the server's stream tells a body of exactly `limit` bytes from a
    longer one, which must not be cut silently.

    A body with a Content-Length is read from the server's stream in one call: werkzeug's reader copies it
    chunk by chunk into a bytearray, which took about 3 ms of a 2 MiB request's 5 ms in the app.
    """
    length = request.content_length
    if length is not None:
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()
        body: bytes = request.environ["wsgi.input"].read(length)
        if len(body) != length:
            raise BadRequestError(400, f"the body ended after {len(body)} of its {length} bytes")
        return body
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


def max_payload_in_mb(limit: int | None) -> int:
    """The payload limit as batch transform's MaxPayloadInMB: whole MiB, at least 1; no limit: the front
    end's 100."""
    if limit is None:
        return FRONT_END_MAX_BODY_BYTES // MIB
    return max(1, limit // MIB)


def concurrent_transforms(environ: Mapping[str, str]) -> int:
    raw = environ.get(WORKERS_VARIABLE, "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else 1


def _register_error_handlers(app: Flask, payload_limit: int | None) -> None:
    """Every error the app or Flask raises becomes a text/plain answer."""

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

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> WerkzeugResponse:
        # Flask's own pages are HTML; the status and headers (Allow on a 405) are kept.
        response = error.get_response()
        response.set_data(f"{error.code} {error.name}: {error.description}\n")
        response.mimetype = "text/plain"
        return response

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception) -> Response:
        app.logger.exception("unexpected error: %s", error)
        return _text_response(500, f"internal error: {type(error).__name__}; the server log has the details")


def create_app(*, model_dir: Path | None = None, environ: Mapping[str, str] | None = None) -> Flask:
    """The Flask app serving `<model_dir>/model.joblib` (default: the model directory of `paths.py`)."""
    env = os.environ if environ is None else environ
    store = ModelStore((model_dir or resolve_paths(env).model_dir) / MODEL_FILE)
    payload_limit = max_payload_bytes(env)
    accept_default = default_accept(env)
    execution_parameters = {
        "MaxConcurrentTransforms": concurrent_transforms(env),
        "BatchStrategy": BATCH_STRATEGY,
        "MaxPayloadInMB": max_payload_in_mb(payload_limit),
    }
    app = Flask(__name__)
    # Werkzeug enforces it while the body is read, chunked bodies included; the handler below words it.
    app.config["MAX_CONTENT_LENGTH"] = payload_limit
    app.extensions[STORE_EXTENSION] = store

    _register_error_handlers(app, payload_limit)

    @app.get("/ping")
    def ping() -> Response:
        try:
            store.get()
        except ModelUnavailableError as error:
            app.logger.error("ping: %s", error)
            return _text_response(503, str(error))
        return Response("", status=200, mimetype="text/plain")

    @app.get("/execution-parameters")
    def execution_parameters_route() -> Response:
        return Response(orjson.dumps(execution_parameters), status=200, mimetype=JSON)

    @app.post("/invocations")
    def invocations() -> Response:
        try:
            content_type = request.mimetype
            parse = PARSERS.get(content_type)
            if parse is None:
                got = content_type or "none"
                raise BadRequestError(415, f"unsupported Content-Type {got!r}: send {', '.join(PARSERS)}")
            accept = response_type(request.headers.get("Accept"), accept_default)
            if accept is None:
                raise BadRequestError(
                    406,
                    f"cannot answer Accept {request.headers.get('Accept')!r}: "
                    f"ask for {', '.join(RESPONSE_TYPES)}",
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
        if accept == NPY:
            return Response(model.to_npy(predictions), status=200, mimetype=NPY)
        return Response(model.to_csv(predictions), status=200, mimetype=CSV)

    return app


def model_store(app: Flask) -> ModelStore:
    """The app's model store (tests and tools inspect it)."""
    store = app.extensions[STORE_EXTENSION]
    assert isinstance(store, ModelStore)
    return store
