"""The inference app through Flask's test client: formats, negotiation, every client error, the cache."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from werkzeug.test import EnvironBuilder, TestResponse, run_wsgi_app

from containers.decision_tree.decision_tree import app_settings, predictor
from containers.decision_tree.decision_tree.predictor import create_app, model_store
from tests.containers.conftest import Dataset

PAYLOAD_LIMIT = 4096
GOOD_ROWS = "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"


@pytest.fixture(scope="module")
def fitted(iris: Dataset) -> DecisionTreeClassifier:
    return DecisionTreeClassifier(max_depth=3, random_state=0).fit(iris.features, iris.labels)


@pytest.fixture
def model_dir(tmp_path: Path, fitted: DecisionTreeClassifier) -> Path:
    joblib.dump(fitted, tmp_path / "model.joblib")
    return tmp_path


@pytest.fixture
def app(model_dir: Path) -> Flask:
    return create_app(model_dir=model_dir, environ={"MODEL_SERVER_MAX_PAYLOAD_BYTES": str(PAYLOAD_LIMIT)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def invoke(
    client: FlaskClient, body: bytes | str, content_type: str | None = "text/csv", accept: str | None = None
) -> TestResponse:
    headers: dict[str, str] = {}
    if content_type is not None:
        headers["Content-Type"] = content_type
    if accept is not None:
        headers["Accept"] = accept
    return client.post("/invocations", data=body, headers=headers)


def csv_of(features: np.ndarray) -> str:
    return "".join(",".join(repr(float(value)) for value in row) + "\n" for row in features)


def assert_good_request_succeeds(client: FlaskClient) -> None:
    response = invoke(client, GOOD_ROWS)
    assert response.status_code == 200, response.text
    assert response.text == "0\n2\n"


def test_ping_loads_the_model_once_and_answers_200(app: Flask, client: FlaskClient) -> None:
    assert model_store(app).loads == 0  # lazy: nothing loaded before the first request

    assert client.get("/ping").status_code == 200
    assert client.get("/ping").status_code == 200
    assert_good_request_succeeds(client)

    assert model_store(app).loads == 1


def test_ping_answers_503_with_the_reason_until_a_model_appears(
    tmp_path: Path, fitted: DecisionTreeClassifier
) -> None:
    client = create_app(model_dir=tmp_path, environ={}).test_client()

    missing = client.get("/ping")
    assert missing.status_code == 503
    assert f"no model at {tmp_path / 'model.joblib'}" in missing.text
    assert invoke(client, GOOD_ROWS).status_code == 503

    joblib.dump(fitted, tmp_path / "model.joblib")
    assert client.get("/ping").status_code == 200


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"not a pickle", "cannot load"), (None, "holds a dict, not a fitted scikit-learn estimator")],
    ids=["corrupt-file", "not-an-estimator"],
)
def test_ping_answers_503_for_a_model_it_cannot_use(
    tmp_path: Path, content: bytes | None, reason: str
) -> None:
    if content is None:
        joblib.dump({"weights": [1, 2]}, tmp_path / "model.joblib")
    else:
        (tmp_path / "model.joblib").write_bytes(content)

    response = create_app(model_dir=tmp_path, environ={}).test_client().get("/ping")

    assert response.status_code == 503
    assert reason in response.text


def test_the_model_dir_comes_from_the_environment(model_dir: Path) -> None:
    client = create_app(environ={"SM_MODEL_DIR": str(model_dir)}).test_client()

    assert client.get("/ping").status_code == 200


def test_csv_predictions_match_the_model(
    client: FlaskClient, fitted: DecisionTreeClassifier, iris: Dataset
) -> None:
    response = invoke(client, csv_of(iris.features))

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    expected = fitted.predict(iris.features)
    assert response.text == "".join(f"{label}\n" for label in expected.tolist())


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3, 5.2, 2.3]]},
        [[5.1, 3.5, 1.4, 0.2], [6.7, 3, 5.2, 2.3]],
    ],
    ids=["instances", "list-of-rows"],
)
def test_json_requests_are_accepted_in_both_shapes(client: FlaskClient, body: object) -> None:
    response = invoke(client, json.dumps(body), content_type="application/json")

    assert response.status_code == 200
    assert response.text == "0\n2\n"


@pytest.mark.parametrize(
    ("accept", "mimetype", "expected"),
    [
        (None, "text/csv", "0\n2\n"),
        ("*/*", "text/csv", "0\n2\n"),
        ("text/csv; charset=utf-8", "text/csv", "0\n2\n"),
        ("text/*", "text/csv", "0\n2\n"),
        ("application/json", "application/json", '{"predictions":[0,2]}'),
        ("application/json, text/csv;q=0.5", "application/json", '{"predictions":[0,2]}'),
        ("text/html, application/json;q=0.9", "application/json", '{"predictions":[0,2]}'),
    ],
)
def test_the_response_format_follows_accept(
    client: FlaskClient, accept: str | None, mimetype: str, expected: str
) -> None:
    response = invoke(client, GOOD_ROWS, accept=accept)

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.text == expected


@pytest.mark.parametrize(
    "body",
    [
        "5.1,3.5,1.4,0.2\r\n6.7,3.0,5.2,2.3\r\n",
        "5.1, 3.5, 1.4, 0.2\n\n6.7,3.0,5.2,2.3",
        "5.1,3.5,1.4,0.2\n6.7,3,5.2,2.3\n \n",
    ],
    ids=["crlf", "spaces-blank-line-no-final-newline", "trailing-whitespace"],
)
def test_csv_tolerates_line_endings_and_spacing(client: FlaskClient, body: str) -> None:
    response = invoke(client, body)

    assert response.status_code == 200, response.text
    assert response.text == "0\n2\n"


def test_a_single_feature_model_reads_one_value_per_line(tmp_path: Path) -> None:
    features = np.array([[0.0], [1.0], [10.0], [11.0]])
    joblib.dump(DecisionTreeClassifier().fit(features, [0, 0, 1, 1]), tmp_path / "model.joblib")
    client = create_app(model_dir=tmp_path, environ={}).test_client()

    response = invoke(client, "0.5\n10.5\n")

    assert response.status_code == 200, response.text
    assert response.text == "0\n1\n"


@dataclass(frozen=True)
class BadRequest:
    body: str | bytes
    status: int
    message: str
    content_type: str | None = "text/csv"
    accept: str | None = None


JSON_TYPE = "application/json"
NPY_TYPE = "application/x-npy"


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def npz_bytes() -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, rows=np.zeros((1, 4)))
    return buffer.getvalue()


BAD_REQUESTS = [
    pytest.param(
        BadRequest(
            GOOD_ROWS,
            415,
            "unsupported Content-Type 'text/plain': send text/csv, application/json, application/x-npy",
            content_type="text/plain",
        ),
        id="text-plain",
    ),
    pytest.param(
        BadRequest(GOOD_ROWS, 415, "unsupported Content-Type 'none'", content_type=None), id="no-content-type"
    ),
    pytest.param(
        BadRequest(GOOD_ROWS, 400, "application/x-npy body is not one array", content_type=NPY_TYPE),
        id="npy-not-npy",
    ),
    pytest.param(
        BadRequest(
            npy_bytes(np.zeros((2, 3))),
            400,
            "has shape (2, 3); send (rows, 4) or (4,)",
            content_type=NPY_TYPE,
        ),
        id="npy-wrong-width",
    ),
    pytest.param(
        BadRequest(npy_bytes(np.zeros((2, 2, 4))), 400, "has shape (2, 2, 4)", content_type=NPY_TYPE),
        id="npy-three-dimensions",
    ),
    pytest.param(
        BadRequest(
            npy_bytes(np.array([["a", "b", "c", "d"]])),
            400,
            "holds <U1; send integers or floats",
            content_type=NPY_TYPE,
        ),
        id="npy-strings",
    ),
    pytest.param(
        BadRequest(
            npy_bytes(np.array([[1.0, 2.0, np.inf, 4.0]])),
            400,
            "row 1, column 3: not a finite number",
            content_type=NPY_TYPE,
        ),
        id="npy-infinite",
    ),
    pytest.param(
        BadRequest(npz_bytes(), 400, "is an .npz archive", content_type=NPY_TYPE),
        id="npy-npz",
    ),
    pytest.param(
        BadRequest(b"[" * 2000 + b"]" * 2000, 400, "not valid JSON", content_type="application/json"),
        id="json-nested-deeply",
    ),
    pytest.param(
        BadRequest(
            "[[[[[1]]], 2, 3, 4]]",
            400,
            "row 1, column 1: a list is not a finite number",
            content_type="application/json",
        ),
        id="json-nested-value",
    ),
    pytest.param(
        BadRequest(
            GOOD_ROWS,
            406,
            "cannot answer Accept 'text/html': ask for text/csv, application/json, application/x-npy",
            accept="text/html",
        ),
        id="accept-html",
    ),
    pytest.param(
        BadRequest(GOOD_ROWS, 406, "cannot answer Accept", accept="application/json;q=0, text/plain"),
        id="accept-refuses-json",
    ),
    pytest.param(BadRequest("", 400, "empty request body"), id="empty"),
    pytest.param(BadRequest(" \n\n ", 400, "empty request body"), id="whitespace-only"),
    pytest.param(
        BadRequest("5.1,3.5,1.4,0.2\n6.7,3.0,5.2\n", 400, "line 2: expected 4 values, got 3"),
        id="ragged-rows",
    ),
    pytest.param(
        BadRequest("5.1,3.5,1.4\n6.7,3.0,5.2\n", 400, "line 1: expected 4 values, got 3"),
        id="too-few-columns",
    ),
    pytest.param(
        BadRequest("0,5.1,3.5,1.4,0.2\n", 400, "line 1: expected 4 values, got 5"), id="label-column-included"
    ),
    pytest.param(
        BadRequest(
            "sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n",
            400,
            "line 1, column 1: 'sepal_length' is not a number",
        ),
        id="header-row",
    ),
    pytest.param(
        BadRequest("5.1,3.5,1.4,0.2\n5.1,,1.4,0.2\n", 400, "line 2, column 2: '' is not a number"),
        id="empty-field",
    ),
    pytest.param(
        BadRequest("5.1,3.5,1.4,nan\n", 400, "line 1, column 4: 'nan' is not a finite number"), id="nan"
    ),
    pytest.param(
        BadRequest("5.1,3.5,1.4,-inf\n", 400, "line 1, column 4: '-inf' is not a finite number"),
        id="infinity",
    ),
    pytest.param(BadRequest(b"5.1,3.5,1.4,0.2\xff\n", 400, "text/csv body is not UTF-8"), id="not-utf8"),
    pytest.param(
        BadRequest("{not json", 400, "application/json body is not valid JSON", content_type=JSON_TYPE),
        id="json-malformed",
    ),
    pytest.param(
        BadRequest(
            '{"rows": [[1, 2, 3, 4]]}', 400, 'send {"instances": [[...], ...]}', content_type=JSON_TYPE
        ),
        id="json-without-instances",
    ),
    pytest.param(
        BadRequest('{"instances": []}', 400, "application/json body has no rows", content_type=JSON_TYPE),
        id="json-no-rows",
    ),
    pytest.param(
        BadRequest(
            "[5.1, 3.5, 1.4, 0.2]", 400, "application/json row 1 is not a list", content_type=JSON_TYPE
        ),
        id="json-flat-list",
    ),
    pytest.param(
        BadRequest(
            "[[5.1, 3.5, 1.4, 0.2], [1, 2, 3, 4, 5]]",
            400,
            "row 2: expected 4 values, got 5",
            content_type=JSON_TYPE,
        ),
        id="json-wrong-width",
    ),
    pytest.param(
        BadRequest(
            '[[5.1, "3.5", 1.4, 0.2]]',
            400,
            'row 1, column 2: "3.5" is not a finite number',
            content_type=JSON_TYPE,
        ),
        id="json-string",
    ),
    pytest.param(
        BadRequest(
            "[[5.1, true, 1.4, 0.2]]",
            400,
            "row 1, column 2: true is not a finite number",
            content_type=JSON_TYPE,
        ),
        id="json-bool",
    ),
    pytest.param(
        BadRequest(
            "[[5.1, NaN, 1.4, 0.2]]",
            400,
            "application/json body is not valid JSON",
            content_type=JSON_TYPE,
        ),
        id="json-nan",
    ),
    pytest.param(
        BadRequest(f"[[5.1, 1{'0' * 400}, 1.4, 0.2]]", 400, "not valid JSON", content_type=JSON_TYPE),
        id="json-huge-int",
    ),
    pytest.param(
        BadRequest("5.1,3.5,1.4,0.2\n" * 300, 413, f"the limit is {PAYLOAD_LIMIT} bytes, got 4800 bytes"),
        id="oversized",
    ),
]


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_a_bad_request_gets_its_status_and_the_server_carries_on(
    client: FlaskClient, case: BadRequest
) -> None:
    response = invoke(client, case.body, content_type=case.content_type, accept=case.accept)

    assert response.status_code == case.status
    assert response.mimetype == "text/plain"
    assert case.message in response.text
    assert_good_request_succeeds(client)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, 6 * 1024 * 1024),
        ({"MODEL_SERVER_MAX_PAYLOAD_BYTES": "1000"}, 1000),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "20"}, 20 * 1024 * 1024),
        ({"MODEL_SERVER_MAX_PAYLOAD_BYTES": "1000", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20"}, 1000),
        ({"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0"}, None),
        ({"MODEL_SERVER_MAX_PAYLOAD_BYTES": " "}, 6 * 1024 * 1024),
    ],
)
def test_the_payload_limit_comes_from_the_environment(
    environ: Mapping[str, str], expected: int | None
) -> None:
    assert app_settings.max_payload_bytes(environ) == expected


@pytest.mark.parametrize("value", ["6MB", "-1", "1.5"])
def test_a_bad_payload_limit_is_refused_by_name(value: str) -> None:
    with pytest.raises(
        ValueError, match=f"MODEL_SERVER_MAX_PAYLOAD_BYTES must be a whole number >= 0, got '{value}'"
    ):
        app_settings.max_payload_bytes({"MODEL_SERVER_MAX_PAYLOAD_BYTES": value})


def test_without_a_limit_a_large_body_is_served(model_dir: Path) -> None:
    client = create_app(model_dir=model_dir, environ={"MODEL_SERVER_MAX_PAYLOAD_BYTES": "0"}).test_client()

    response = invoke(client, GOOD_ROWS * 5000)

    assert response.status_code == 200
    assert response.text == "0\n2\n" * 5000


def test_unknown_routes_and_methods_are_refused_in_text(client: FlaskClient) -> None:
    for response, status in (
        (client.get("/invocations"), 405),
        (client.post("/ping"), 405),
        (client.get("/"), 404),
    ):
        assert response.status_code == status
        assert response.mimetype == "text/plain"
        assert response.text.startswith(f"{status} ")
        assert "<" not in response.text
    assert "POST" in client.get("/invocations").headers["Allow"]


def test_a_bug_is_a_text_500_and_the_app_carries_on(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: object, __: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(predictor.LoadedModel, "predict", broken)
    response = app.test_client().post("/invocations", data=GOOD_ROWS, headers={"Content-Type": "text/csv"})

    assert response.status_code == 500
    assert response.mimetype == "text/plain"
    assert response.text == "internal error: KeyError; the server log has the details\n"


@pytest.mark.parametrize(
    "array",
    [
        np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]),
        np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], dtype=np.float32),
        np.array([[5, 3, 1, 0], [7, 3, 5, 2]]),
        np.asfortranarray([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]),
    ],
    ids=["float64", "float32", "int64", "fortran-order"],
)
def test_npy_bodies_are_read_as_numpy_save_writes_them(client: FlaskClient, array: np.ndarray) -> None:
    response = invoke(client, npy_bytes(array), content_type=NPY_TYPE)

    assert response.status_code == 200, response.text
    assert response.text == "0\n2\n"


def test_a_one_dimensional_npy_array_is_one_row(client: FlaskClient) -> None:
    response = invoke(client, npy_bytes(np.array([6.7, 3.0, 5.2, 2.3])), content_type=NPY_TYPE)

    assert response.text == "2\n"


def test_npy_answers_read_back_with_numpy(
    client: FlaskClient, fitted: DecisionTreeClassifier, iris: Dataset
) -> None:
    # float32: 150 rows fit under this app's 4 KiB limit.
    response = invoke(
        client, npy_bytes(iris.features.astype(np.float32)), content_type=NPY_TYPE, accept=NPY_TYPE
    )

    assert response.mimetype == NPY_TYPE
    np.testing.assert_array_equal(np.load(io.BytesIO(response.data)), fitted.predict(iris.features))


def test_the_json_fast_path_matches_the_model_on_mixed_numbers(
    client: FlaskClient, fitted: DecisionTreeClassifier, iris: Dataset
) -> None:
    # Whole numbers arrive as JSON integers, the rest as floats; both are numbers to the model.
    rows = [[int(value) if value.is_integer() else value for value in row] for row in iris.features.tolist()]

    response = invoke(client, json.dumps({"instances": rows}), content_type=JSON_TYPE, accept=JSON_TYPE)

    assert response.json == {"predictions": fitted.predict(iris.features).tolist()}


@pytest.mark.parametrize(
    ("default", "accept", "mimetype"),
    [
        ("application/json", None, "application/json"),
        ("application/json", "*/*", "application/json"),
        ("application/json", "text/csv", "text/csv"),
        ("application/x-npy", None, "application/x-npy"),
    ],
)
def test_the_default_accept_comes_from_sagemaker(
    model_dir: Path, default: str, accept: str | None, mimetype: str
) -> None:
    client = create_app(
        model_dir=model_dir, environ={"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": default}
    ).test_client()

    response = invoke(client, GOOD_ROWS, accept=accept)

    assert response.status_code == 200
    assert response.mimetype == mimetype


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}),
        (
            {"SAGEMAKER_MODEL_SERVER_WORKERS": "4", "SAGEMAKER_MAX_PAYLOAD_IN_MB": "20"},
            {"MaxConcurrentTransforms": 4, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 20},
        ),
        (
            {"SAGEMAKER_MAX_PAYLOAD_IN_MB": "0"},
            {"MaxConcurrentTransforms": 1, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 100},
        ),
    ],
    ids=["defaults", "workers-and-limit", "no-limit"],
)
def test_execution_parameters_follow_the_settings(
    model_dir: Path, environ: dict[str, str], expected: dict[str, object]
) -> None:
    response = create_app(model_dir=model_dir, environ=environ).test_client().get("/execution-parameters")

    assert response.status_code == 200
    assert response.json == expected


def test_a_model_without_classes_is_served_by_its_raw_predictions(tmp_path: Path) -> None:
    features = np.array([[0.0], [1.0], [10.0], [11.0]])
    joblib.dump(DecisionTreeRegressor().fit(features, [0.5, 0.5, 2.25, 2.25]), tmp_path / "model.joblib")
    client = create_app(model_dir=tmp_path, environ={}).test_client()

    assert invoke(client, "0.2\n10.2\n").text == "0.5\n2.25\n"
    assert invoke(client, "[[10.2]]", content_type="application/json", accept="application/json").json == {
        "predictions": [2.25]
    }


def test_a_body_shorter_than_its_content_length_is_a_400(app: Flask) -> None:
    # A client that disconnects mid-body: the server's stream ends before Content-Length says.
    environ = EnvironBuilder(method="POST", path="/invocations", content_type="text/csv").get_environ()
    environ["CONTENT_LENGTH"] = "100"
    environ["wsgi.input"] = io.BytesIO(GOOD_ROWS.encode())

    body, status, _ = run_wsgi_app(app, environ, buffered=True)

    assert status.startswith("400")
    assert b"".join(body).decode() == f"the body ended after {len(GOOD_ROWS)} of its 100 bytes\n"
