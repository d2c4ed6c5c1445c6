"""`mlplatform smoke-test`: answers parsed and every expectation rule (pure functions), then the command end
to end: DescribeEndpoint from botocore's Stubber, InvokeEndpoint over real HTTP to a loopback stand-in of
the SageMaker runtime that forwards to the real decision-tree inference app (trained once per module by the
real `train` program on iris: 4 features, classes 0, 1 and 2)."""

from __future__ import annotations

import copy
import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest
from botocore.stub import Stubber

from platform_cli.__main__ import main
from platform_cli.smoke_test import (
    AnswerFormatError,
    Outcome,
    as_number,
    check_answers,
    judge,
    parse_answers,
    same_answer,
)
from platform_config import load_platform
from platform_config.models import SmokeTestExpectation
from tests.cli.runtime_stand_in import ACCOUNT, RuntimeStandIn, refuse_network_except_loopback, running

if TYPE_CHECKING:
    from flask import Flask, Response
from tests.containers.conftest import Dataset, TrainedTree, make_tree, run_train

CONSOLE_SCRIPT = Path(sys.executable).parent / "mlplatform"
ENDPOINT = "churn-model"  # staging's endpoint in config/staging.yaml, here serving the iris tree
SHADOW = "churn-model-shadow"  # a second endpoint the tests add to staging
SLOW = "slow-model"  # answers after SLOW_SECONDS, for --timeout-seconds
SLOW_SECONDS = 3.0
TWO_FLOWERS = "5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n"  # the model answers 0 and 2
SMOKE_TESTS: list[dict[str, Any]] = [
    {
        "name": "two-flowers",
        "body": TWO_FLOWERS,
        "expect": {"answers": 2, "one_of": ["0", "1", "2"], "min_value": 0, "max_value": 2},
    },
    {
        "name": "one-flower-json",
        "content_type": "application/json",
        "accept": "application/json",
        "body": '{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
        "expect": {"answers": 1, "one_of": ["0"], "contains": '"predictions"'},
    },
]
SHADOW_TESTS: list[dict[str, Any]] = [
    {"name": "one-flower", "body": "6.7,3.0,5.2,2.3\n", "expect": {"answers": 1, "one_of": ["2"]}}
]
PASS_LINE = re.compile(r"PASS (?P<case>\S+) (?P<ms>\d+) ms \((?P<answers>\d+ answers?)\)")


# --- answers --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "answers"),
    [
        ("0\n2\n", "text/csv", ("0", "2")),
        ("0\r\n\r\n  2 \n\n", "text/csv; charset=utf-8", ("0", "2")),
        ("0.25,0.75\n", "TEXT/CSV", ("0.25,0.75",)),
        ("yes\nno", "text/plain", ("yes", "no")),
        ("", "text/csv", ()),
        ("1\n", None, ("1",)),
        ('{"predictions": [0, 2, 1]}', "application/json", ("0", "2", "1")),
        (
            '{"predictions": ["a", 0.25, true, null, {"p": 1}]}',
            "application/json",
            ("a", "0.25", "true", "null", '{"p":1}'),
        ),
        ("[1, 0]", "application/json; charset=utf-8", ("1", "0")),
        ('{"predictions": []}', "application/json", ()),
        ('["x"]', "application/vnd.scores+json", ("x",)),
    ],
)
def test_answers_are_lines_or_json_items(
    body: str, content_type: str | None, answers: tuple[str, ...]
) -> None:
    assert parse_answers(body, content_type) == answers


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("<predictions/>", "the application/json answer is not valid JSON: Expecting value"),
        ('{"scores": [1]}', "the JSON answer is an object without 'predictions' (keys: 'scores')"),
        ('{"predictions": 1}', "the JSON answer's 'predictions' is a number, not a list of answers"),
        ('"0"', 'the JSON answer is a string; expected {"predictions": [...]} or a list'),
        ("null", "the JSON answer is a null"),
    ],
)
def test_json_answers_that_cannot_be_read_say_what_arrived(body: str, message: str) -> None:
    with pytest.raises(AnswerFormatError) as raised:
        parse_answers(body, "application/json")

    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1", 1.0),
        ("-0.5", -0.5),
        (" 2.5e-3 ", 0.0025),
        ("nan", None),
        ("inf", None),
        ("true", None),
        ("", None),
    ],
)
def test_answers_are_numbers_only_when_finite(text: str, number: float | None) -> None:
    assert as_number(text) == number


def test_answers_compare_as_text_or_numbers() -> None:
    assert same_answer("1.0", "1")
    assert same_answer("yes", "yes")
    assert not same_answer("1.5", "1")
    assert not same_answer("nan", "nan ")


# --- expectations ---------------------------------------------------------------------------------


def expectation(**rules: Any) -> SmokeTestExpectation:
    return SmokeTestExpectation.model_validate(rules)


@pytest.mark.parametrize(
    ("rules", "answers", "raw"),
    [
        ({"answers": 2}, ("0", "2"), "0\n2\n"),
        ({"answers": 0}, (), ""),
        ({"one_of": ["0", "1", "2"]}, ("0", "2"), ""),
        ({"one_of": ["1"]}, ("1.0",), ""),
        ({"min_value": 0}, ("0", "0.5"), ""),
        ({"max_value": 1}, ("1", "-3"), ""),
        ({"min_value": 0, "max_value": 1}, ("0.0", "1e0"), ""),
        ({"contains": "predictions"}, ("0",), '{"predictions": [0]}'),
        ({"contains": "x"}, (), "x"),
    ],
)
def test_expectations_that_hold(rules: dict[str, Any], answers: tuple[str, ...], raw: str) -> None:
    assert check_answers(answers, raw, expectation(**rules)) == []


@pytest.mark.parametrize(
    ("rules", "answers", "raw", "problems"),
    [
        ({"answers": 2}, ("0", "2", "1"), "", ["expected 2 answers, got 3"]),
        ({"answers": 1}, (), "", ["expected 1 answer, got 0"]),
        ({"one_of": ["0", "1"]}, ("0", "7"), "", ["answer 2 '7' is not one of '0', '1'"]),
        ({"min_value": 0}, ("-0.5", "1"), "", ["answer 1 '-0.5' is below min_value 0.0"]),
        ({"max_value": 1}, ("0.2", "1.7"), "", ["answer 2 '1.7' is above max_value 1.0"]),
        (
            {"min_value": 0, "max_value": 1},
            ("yes",),
            "",
            ["answer 1 'yes' is not a number (min_value 0.0 and max_value 1.0)"],
        ),
        ({"max_value": 1}, ("nan",), "", ["answer 1 'nan' is not a number (max_value 1.0)"]),
        ({"contains": "probability"}, ("0",), "0\n", ["the answer does not contain 'probability'"]),
        (
            {"one_of": ["0"]},
            (),
            "",
            ["the response holds no answers to check one_of, min_value or max_value against"],
        ),
        (
            {"max_value": 1},
            ("2", "0", "3", "4"),
            "",
            ["answer 1 '2' is above max_value 1.0 (and 2 more)"],
        ),
        (
            {"answers": 1, "one_of": ["0"], "min_value": 0, "max_value": 1, "contains": "0"},
            ("5", "-1", "x"),
            "5\n-1\nx\n",
            [
                "expected 1 answer, got 3",
                "answer 1 '5' is not one of '0' (and 2 more)",
                "answer 3 'x' is not a number (min_value 0.0 and max_value 1.0)",
                "answer 2 '-1' is below min_value 0.0",
                "answer 1 '5' is above max_value 1.0",
                "the answer does not contain '0'",
            ],
        ),
    ],
)
def test_expectations_that_fail_name_the_answer_and_the_rule(
    rules: dict[str, Any], answers: tuple[str, ...], raw: str, problems: list[str]
) -> None:
    assert check_answers(answers, raw, expectation(**rules)) == problems


def test_long_answers_are_shortened_in_messages() -> None:
    (problem,) = check_answers(("9" * 100,), "", expectation(one_of=["0"]))

    assert problem == f"answer 1 '{'9' * 60}...' is not one of '0'"


def test_judge_parses_by_content_type_and_checks() -> None:
    rules = expectation(answers=2, one_of=["0", "2"])

    assert judge(b'{"predictions": [0, 2]}', "application/json", rules).passed
    assert judge(b"0\n2\n", "text/csv", rules).answers == ("0", "2")
    assert judge(b"0\n3\n", "text/csv", rules).problems == ("answer 2 '3' is not one of '0', '2'",)
    assert (
        judge(b"\xff\xfe", "text/csv", rules).problems[0].startswith("the answer (2 bytes) is not UTF-8 text")
    )
    assert judge(b"0\n2\n", "application/json", rules).answers is None


def test_outcome_lines() -> None:
    assert (
        Outcome("churn-model", "a", (), elapsed_ms=41, answers=2).line
        == "PASS churn-model/a 41 ms (2 answers)"
    )
    assert (
        Outcome("churn-model", "b", (), elapsed_ms=3, answers=1).line == "PASS churn-model/b 3 ms (1 answer)"
    )
    assert Outcome("churn-model", "c", ("x", "y")).line == "FAIL churn-model/c: x; y"


# --- end to end: the command against the runtime stand-in ------------------------------------------


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replaces the package's no_network: loopback (the stand-in) is allowed, anything else fails."""
    refuse_network_except_loopback(monkeypatch)


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> TrainedTree:
    """The iris tree, trained once for this module by the container's real `train` program."""
    # scikit-learn, Flask and the predictor (about 3 s to import) only in the worker that runs this module:
    # every worker imports it to collect it.
    from sklearn.datasets import load_iris  # noqa: PLC0415

    features, labels = load_iris(return_X_y=True)
    base = make_tree(tmp_path_factory.mktemp("opt_ml"), Dataset(features, labels), {"max_depth": "3"})
    result = run_train(base)
    assert result.returncode == 0, result.stderr
    return TrainedTree(base, result)


def slow_app() -> Flask:
    from flask import Flask, Response  # noqa: PLC0415

    app = Flask("slow-model")

    @app.post("/invocations")
    def invocations() -> Response:
        time.sleep(SLOW_SECONDS)
        return Response("0\n", mimetype="text/csv")

    return app


@pytest.fixture(scope="module")
def module_stand_in(trained_model: TrainedTree) -> Iterator[RuntimeStandIn]:
    from containers.decision_tree.decision_tree.predictor import create_app  # noqa: PLC0415

    inference_app = create_app(model_dir=trained_model.model_dir, environ={})
    with running(
        {ENDPOINT: inference_app, SHADOW: inference_app, SLOW: slow_app()}, region="eu-west-1"
    ) as stand_in:
        yield stand_in


@pytest.fixture
def stand_in(module_stand_in: RuntimeStandIn) -> RuntimeStandIn:
    module_stand_in.requests.clear()
    return module_stand_in


class StandInSession:
    """What smoke-test asks of a boto3 session: a stubbed sagemaker client, a runtime client on loopback."""

    def __init__(self, aws: FakeAws, region: str) -> None:
        self.aws = aws
        self.region_name = region

    def client(self, service_name: str, **kwargs: Any) -> Any:
        if service_name == "sagemaker":
            return self.aws.sagemaker_client(self.region_name)
        assert service_name == "sagemaker-runtime", service_name
        # The command's own arguments (region, timeouts, retries) are kept; only the address changes.
        return self.aws.clients_session.client(
            "sagemaker-runtime", endpoint_url=self.aws.runtime_url, **kwargs
        )


@dataclass
class FakeAws:
    """DescribeEndpoint answers (in the order the command asks), and the regions sessions were made for."""

    runtime_url: str
    clients_session: boto3.Session
    descriptions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    regions: list[str] = field(default_factory=list)
    stubbers: list[Stubber] = field(default_factory=list)

    def endpoint(self, name: str, status: str = "InService", **extra: Any) -> FakeAws:
        self.descriptions.append((name, {"EndpointStatus": status, **extra}))
        return self

    def describe_error(self, name: str, code: str, message: str) -> FakeAws:
        self.descriptions.append((name, {}))
        self.errors[name] = (code, message)
        return self

    def session(self, region: str) -> boto3.Session:
        self.regions.append(region)
        return cast(boto3.Session, StandInSession(self, region))

    def sagemaker_client(self, region: str) -> Any:
        client = self.clients_session.client("sagemaker", region_name=region)
        stubber = Stubber(client)
        now = datetime(2026, 1, 5, tzinfo=UTC)
        for name, description in self.descriptions:
            if name in self.errors:
                code, message = self.errors[name]
                stubber.add_client_error(
                    "describe_endpoint", code, message, expected_params={"EndpointName": name}
                )
                continue
            response = {
                "EndpointName": name,
                "EndpointArn": f"arn:aws:sagemaker:{region}:{ACCOUNT}:endpoint/{name}",
                "CreationTime": now,
                "LastModifiedTime": now,
                **description,
            }
            stubber.add_response("describe_endpoint", response, expected_params={"EndpointName": name})
        stubber.activate()
        self.stubbers.append(stubber)
        return client

    def assert_all_described(self) -> None:
        for stubber in self.stubbers:
            stubber.assert_no_pending_responses()


@pytest.fixture(scope="module")
def clients_session() -> boto3.Session:
    """One session makes every test's clients: it reads botocore's service models once, not per test."""
    return boto3.Session()


@pytest.fixture
def aws(stand_in: RuntimeStandIn, clients_session: boto3.Session) -> FakeAws:
    return FakeAws(runtime_url=stand_in.url, clients_session=clients_session)


def run_smoke(aws: FakeAws | None, *arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    exit_code = main(
        ["smoke-test", *arguments],
        regional_session_factory=aws.session if aws is not None else None,
        out=out,
        err=err,
    )
    return exit_code, out.getvalue(), err.getvalue()


@pytest.fixture
def staging(config_copy: Callable[..., Path]) -> Callable[..., Path]:
    """A copy of the sample config; staging's endpoint gets smoke tests that fit the iris model.

    `staging(tests, extra_endpoints)` sets churn-model's smoke tests and adds endpoints shaped like it.
    """

    def no_serving(data: dict[str, Any]) -> None:
        data.pop("serving", None)

    def write(
        tests: list[dict[str, Any]] | None = None, extra_endpoints: tuple[str, ...] = (SHADOW,)
    ) -> Path:
        def change(data: dict[str, Any]) -> None:
            endpoint = next(item for item in data["serving"]["endpoints"] if item["name"] == ENDPOINT)
            endpoint["smoke_tests"] = SMOKE_TESTS if tests is None else tests
            added = [
                {**copy.deepcopy(endpoint), "name": name, "smoke_tests": SHADOW_TESTS}
                for name in extra_endpoints
            ]
            data["serving"]["endpoints"] = [endpoint, *added]

        config_copy("dev", no_serving)  # dev serves nothing, whatever the sample says
        return config_copy("staging", change)

    return write


def staging_region(config_dir: Path) -> str:
    return load_platform(config_dir).environments["staging"].region


def test_every_test_passes_exit_0(
    staging: Callable[..., Path], aws: FakeAws, stand_in: RuntimeStandIn
) -> None:
    config_dir = staging()
    region = staging_region(config_dir)
    aws.endpoint(ENDPOINT).endpoint(SHADOW)

    exit_code, out, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 0, out + err
    lines = out.splitlines()
    assert [PASS_LINE.fullmatch(line) is not None for line in lines[:3]] == [True, True, True], out
    assert [(match["case"], match["answers"]) for match in map(PASS_LINE.fullmatch, lines[:3]) if match] == [
        (f"{ENDPOINT}/two-flowers", "2 answers"),
        (f"{ENDPOINT}/one-flower-json", "1 answer"),
        (f"{SHADOW}/one-flower", "1 answer"),
    ]
    assert lines[3:] == [f"3 passed, 0 failed: staging in {region}"]
    assert f"smoke-testing 2 endpoints (3 tests) of staging in {region}" in err
    aws.assert_all_described()
    # What reached the runtime: the configured body and headers, signed for SageMaker in that region.
    sent = stand_in.requests
    assert [(request.endpoint, request.body.decode()) for request in sent] == [
        (ENDPOINT, TWO_FLOWERS),
        (ENDPOINT, SMOKE_TESTS[1]["body"]),
        (SHADOW, SHADOW_TESTS[0]["body"]),
    ]
    assert [(request.headers["Content-Type"], request.headers["Accept"]) for request in sent] == [
        ("text/csv", "text/csv"),
        ("application/json", "application/json"),
        ("text/csv", "text/csv"),
    ]
    assert {(request.signed_service, request.signed_region) for request in sent} == {("sagemaker", region)}


def test_endpoint_option_selects_endpoints(
    staging: Callable[..., Path], aws: FakeAws, stand_in: RuntimeStandIn
) -> None:
    aws.endpoint(SHADOW)

    exit_code, out, _ = run_smoke(
        aws, "--env", "staging", "--endpoint", SHADOW, "--config-dir", str(staging())
    )

    assert exit_code == 0
    assert out.splitlines()[0].startswith(f"PASS {SHADOW}/one-flower ")
    assert out.splitlines()[1].startswith("1 passed, 0 failed")
    assert {request.endpoint for request in stand_in.requests} == {SHADOW}


def test_a_wrong_expectation_fails_exit_1_naming_the_answer_and_rule(
    staging: Callable[..., Path], aws: FakeAws
) -> None:
    tests = [
        {**SMOKE_TESTS[0], "expect": {"answers": 2, "min_value": 0, "max_value": 1}},
        SMOKE_TESTS[1],
    ]
    aws.endpoint(ENDPOINT)

    exit_code, out, err = run_smoke(
        aws, "--env", "staging", "--config-dir", str(staging(tests, extra_endpoints=()))
    )

    assert exit_code == 1, err
    lines = out.splitlines()
    assert lines[0] == f"FAIL {ENDPOINT}/two-flowers: answer 2 '2' is above max_value 1.0"
    assert lines[1].startswith(f"PASS {ENDPOINT}/one-flower-json ")
    assert lines[2].startswith("1 passed, 1 failed: staging in ")
    assert f"{ENDPOINT}/two-flowers answered (text/csv; charset=utf-8): '0\\n2\\n'" in err


def test_the_models_own_error_fails_the_test_with_its_status_and_message(
    staging: Callable[..., Path], aws: FakeAws
) -> None:
    tests = [
        {"name": "three-features", "body": "5.1,3.5,1.4\n", "expect": {"answers": 1}},
        {"name": "no-xml", "body": TWO_FLOWERS, "accept": "application/xml", "expect": {"answers": 2}},
        SMOKE_TESTS[0],
    ]
    aws.endpoint(ENDPOINT)

    exit_code, out, err = run_smoke(
        aws, "--env", "staging", "--config-dir", str(staging(tests, extra_endpoints=()))
    )

    assert exit_code == 1, err
    lines = out.splitlines()
    assert lines[0].startswith(f"FAIL {ENDPOINT}/three-features: the model answered 400: text/csv body: ")
    assert "send 4 features per row" in lines[0]
    assert (
        f"(log stream arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/sagemaker/Endpoints/{ENDPOINT}"
        in lines[0]
    )
    assert lines[1].startswith(
        f"FAIL {ENDPOINT}/no-xml: the model answered 406: cannot answer Accept 'application/xml'"
    )
    assert lines[2].startswith(f"PASS {ENDPOINT}/two-flowers ")
    assert lines[3].startswith("1 passed, 2 failed")


def test_no_answer_in_time_fails_the_test(staging: Callable[..., Path], aws: FakeAws) -> None:
    aws.endpoint(ENDPOINT).endpoint(SLOW)

    started = time.monotonic()
    exit_code, out, err = run_smoke(
        aws,
        "--env",
        "staging",
        "--timeout-seconds",
        "1",
        "--config-dir",
        str(staging(extra_endpoints=(SLOW,))),
    )

    assert exit_code == 1, err
    assert f"FAIL {SLOW}/one-flower: no answer within 1 s (--timeout-seconds)" in out.splitlines()
    assert time.monotonic() - started < SLOW_SECONDS  # one attempt, not retried


@pytest.mark.parametrize(
    ("description", "advice"),
    [
        (
            {"EndpointStatus": "Creating"},
            ": wait until it is InService (aws sagemaker wait endpoint-in-service --endpoint-name "
            f"{SHADOW} --region ",
        ),
        (
            {"EndpointStatus": "Failed", "FailureReason": "image not found"},
            " (image not found): fix the cause and deploy staging's serving stack again",
        ),
        (
            {"EndpointStatus": "OutOfService"},
            ": it must be deployed and InService; deploy staging's serving stack",
        ),
    ],
)
def test_an_endpoint_not_in_service_exit_2_before_any_request(
    staging: Callable[..., Path],
    aws: FakeAws,
    stand_in: RuntimeStandIn,
    description: dict[str, Any],
    advice: str,
) -> None:
    config_dir = staging()
    aws.endpoint(ENDPOINT).endpoint(SHADOW, **description)

    exit_code, out, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert out == ""
    region = staging_region(config_dir)
    status = description["EndpointStatus"]
    assert (
        f"mlplatform: error: endpoint {SHADOW} (staging in {region}) is {status}, not InService{advice}"
        in err
    )
    assert stand_in.requests == []


def test_an_endpoint_that_does_not_exist_exit_2(staging: Callable[..., Path], aws: FakeAws) -> None:
    aws.endpoint(ENDPOINT).describe_error(
        SHADOW,
        "ValidationException",
        f'Could not find endpoint "arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/x".',
    )

    config_dir = staging()

    exit_code, out, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert out == ""
    assert "AWS DescribeEndpoint failed with ValidationException: Could not find endpoint" in err
    assert "The endpoint does not exist in staging in " in err
    account = load_platform(config_dir).environments["staging"].account_id
    assert f"check that your credentials are for account {account} and the region is right" in err


def test_an_endpoint_the_runtime_does_not_know_exit_2(staging: Callable[..., Path], aws: FakeAws) -> None:
    aws.endpoint(ENDPOINT).endpoint("retired-model")

    exit_code, _, err = run_smoke(
        aws, "--env", "staging", "--config-dir", str(staging(extra_endpoints=("retired-model",)))
    )

    assert exit_code == 2
    assert "AWS InvokeEndpoint failed with ValidationError: Endpoint retired-model of account" in err
    assert "The endpoint does not exist in staging in " in err


def test_access_denied_exit_2_naming_the_permissions(staging: Callable[..., Path], aws: FakeAws) -> None:
    aws.describe_error(
        ENDPOINT, "AccessDeniedException", "not authorized to perform sagemaker:DescribeEndpoint"
    )

    exit_code, _, err = run_smoke(aws, "--env", "staging", "--config-dir", str(staging(extra_endpoints=())))

    assert exit_code == 2
    assert "AWS DescribeEndpoint failed with AccessDeniedException" in err
    assert "(sagemaker:DescribeEndpoint, sagemaker:InvokeEndpoint)" in err


def test_missing_credentials_exit_2(monkeypatch: pytest.MonkeyPatch, staging: Callable[..., Path]) -> None:
    """The default session (no injection): boto3 stops before sending anything."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    exit_code, out, err = run_smoke(None, "--env", "staging", "--config-dir", str(staging()))

    assert exit_code == 2
    assert out == ""
    assert "mlplatform: error: no usable AWS credentials (Unable to locate credentials)" in err


def test_region_defaults_to_the_environments_not_the_users(
    monkeypatch: pytest.MonkeyPatch, staging: Callable[..., Path], aws: FakeAws, stand_in: RuntimeStandIn
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    config_dir = staging()
    region = staging_region(config_dir)
    assert region != "ap-southeast-2"
    aws.endpoint(ENDPOINT).endpoint(SHADOW)

    exit_code, out, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 0, err
    assert aws.regions == [region]
    assert {request.signed_region for request in stand_in.requests} == {region}
    assert out.splitlines()[-1] == f"3 passed, 0 failed: staging in {region}"
    assert "note:" not in err


def test_region_option_overrides_it(
    staging: Callable[..., Path], aws: FakeAws, stand_in: RuntimeStandIn
) -> None:
    config_dir = staging()
    aws.endpoint(SHADOW)

    exit_code, _, err = run_smoke(
        aws,
        "--env",
        "staging",
        "--endpoint",
        SHADOW,
        "--region",
        "us-west-2",
        "--config-dir",
        str(config_dir),
    )

    assert exit_code == 0, err
    assert aws.regions == ["us-west-2"]
    assert {request.signed_region for request in stand_in.requests} == {"us-west-2"}
    assert f"note: --region us-west-2 is not staging's configured region {staging_region(config_dir)}" in err


def test_unknown_endpoint_is_a_usage_error_listing_the_configured(
    staging: Callable[..., Path], aws: FakeAws
) -> None:
    exit_code, out, err = run_smoke(
        aws, "--env", "staging", "--endpoint", "churn", "--endpoint", SHADOW, "--config-dir", str(staging())
    )

    assert exit_code == 2
    assert out == ""
    assert err == (
        "mlplatform: error: --endpoint 'churn': not an endpoint of environment 'staging' (endpoints whose "
        f"model_package says approved: false are not deployed); deployed: {ENDPOINT}, {SHADOW}\n"
    )
    assert aws.regions == []  # nothing was called


def test_endpoints_whose_version_is_not_approved_yet_are_not_tested(
    config_copy: Callable[..., Path], aws: FakeAws, stand_in: RuntimeStandIn
) -> None:
    def pending(data: dict[str, Any]) -> None:
        for endpoint in data["serving"]["endpoints"]:
            endpoint["model_package"]["approved"] = False

    config_dir = config_copy("staging", pending)

    exit_code, out, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert out == ""
    assert "environment 'staging' has no deployed endpoint: every model_package in " in err
    assert "says approved: false" in err
    assert aws.regions == []


def test_environment_without_serving_is_a_usage_error(staging: Callable[..., Path], aws: FakeAws) -> None:
    config_dir = staging()

    exit_code, out, err = run_smoke(aws, "--env", "dev", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert out == ""
    assert "mlplatform: error: environment 'dev' serves no endpoints (no serving section in " in err
    assert f"{config_dir}/dev.yaml): nothing to smoke-test. Environments with endpoints: " in err
    assert "staging" in err.rsplit("Environments with endpoints: ", 1)[1]
    assert aws.regions == []


def test_unknown_environment_is_a_usage_error(staging: Callable[..., Path], aws: FakeAws) -> None:
    config_dir = staging()

    exit_code, _, err = run_smoke(aws, "--env", "qa", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert f"--env 'qa' is not configured: there is no {config_dir}/qa.yaml; configured: dev, " in err


def test_configuration_problems_are_printed_exit_2(staging: Callable[..., Path], aws: FakeAws) -> None:
    config_dir = staging([{"name": "nothing-checked", "body": "1\n", "expect": {}}])

    exit_code, _, err = run_smoke(aws, "--env", "staging", "--config-dir", str(config_dir))

    assert exit_code == 2
    assert err.startswith("mlplatform: error: invalid platform configuration (1 problem(s)):\n  - ")
    assert "expect: checks nothing; give answers" in err
    assert "fix the configuration, then run the smoke test again" in err
    assert aws.regions == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ([], "the following arguments are required: --env"),
        (["--env", "staging", "--timeout-seconds", "soon"], "invalid int value: 'soon'"),
        (["--env", "staging", "--timeout-seconds", "0"], "--timeout-seconds must be between 1 and 900"),
        (["--env", "Staging"], "--env 'Staging' is not an environment name"),
        (
            ["--env", "staging", "--config-dir", "no-such-folder"],
            "--config-dir no-such-folder: no such folder",
        ),
    ],
)
def test_usage_errors_exit_2(arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, _, err = run_smoke(None, *arguments)

    assert exit_code == 2
    assert message in err + capsys.readouterr().err


def test_help_lists_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "smoke-test" in capsys.readouterr().err


def test_installed_console_script_runs_the_command(staging: Callable[..., Path], tmp_path: Path) -> None:
    """The real entry point from another folder; it stops at the configuration, before any AWS call."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}

    completed = subprocess.run(
        [str(CONSOLE_SCRIPT), "smoke-test", "--env", "dev", "--config-dir", str(staging())],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 2, completed.stderr
    assert completed.stdout == ""
    assert "mlplatform: error: environment 'dev' serves no endpoints" in completed.stderr
