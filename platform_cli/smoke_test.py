"""`mlplatform smoke-test`: send each endpoint's configured smoke tests and check the answers.

Flow: load the config folder -> the environment's `serving.endpoints` (all, or the --endpoint ones) ->
describe each; every one must be InService -> per smoke test: InvokeEndpoint with its body, Content-Type
and Accept, timed -> the answers parsed and checked against `expect` -> one PASS or FAIL line per test on
stdout, then a summary line. Notes (what is tested where, an answer that failed) go to stderr.

Answers are the non-empty lines of a CSV (or any text) response; for a JSON response, the items of
`predictions` (an object with that key) or of a top-level list, each as its text (a string as it is, any
other value as JSON). Numbers compare numerically, so `1.0` is one of `["1"]`.

Exit codes: 0 every test passed; 1 a test failed (a wrong answer, an error from the model, no answer in
time); 2 nothing could be tested as asked (bad arguments or configuration, an endpoint missing or not
InService, no credentials, access denied).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError

from platform_cli.build_image import Console
from platform_cli.configured import configured_environment, load_configuration
from platform_cli.errors import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, CommandError, describe_aws_error
from platform_config import EnvironmentConfig, PlatformConfig
from platform_config.models import (
    ENVIRONMENT_NAME_PATTERN,
    EndpointConfig,
    SmokeTestConfig,
    SmokeTestExpectation,
)

if TYPE_CHECKING:
    from mypy_boto3_sagemaker import SageMakerClient

EXIT_TESTS_FAILED = 1
DEFAULT_TIMEOUT_SECONDS = 60
MAX_TIMEOUT_SECONDS = 900
CONNECT_TIMEOUT_SECONDS = 10
IN_SERVICE = "InService"
# Statuses an endpoint passes through on its way to InService (or back to it after a failed update).
TRANSIENT_STATUSES = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
FAILED_STATUSES = frozenset({"Failed", "UpdateRollbackFailed"})
JSON_MEDIA_TYPE = "application/json"
PREVIEW_CHARS = 200
ANSWER_TEXT_CHARS = 60

SessionFactory = Callable[[str], boto3.Session]
"""Makes the boto3 session for a region (tests pass one whose clients reach a local stand-in)."""


class RuntimeClient(Protocol):
    """The part of the sagemaker-runtime client this command calls (its type stubs are not installed).

    Called as `invoke_endpoint(EndpointName=..., Body=..., ContentType=..., Accept=...)`.
    """

    def invoke_endpoint(self, **parameters: str | bytes) -> Mapping[str, Any]: ...


# --- answers and expectations (pure) ---------------------------------------------------------------


class AnswerFormatError(ValueError):
    """The response cannot be read as answers; the message says what arrived."""


def media_type(content_type: str | None) -> str:
    """`text/csv; charset=utf-8` -> `text/csv`; lower case, parameters dropped."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(content_type: str | None) -> bool:
    media = media_type(content_type)
    return media == JSON_MEDIA_TYPE or media.endswith("+json")


def decode_answer(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnswerFormatError(f"the answer ({len(body)} bytes) is not UTF-8 text: {error}") from None


def parse_answers(text: str, content_type: str | None) -> tuple[str, ...]:
    """The answers in a response body of `content_type` (see the module docstring)."""
    if not is_json(content_type):
        return tuple(line.strip() for line in text.splitlines() if line.strip())
    try:
        document = json.loads(text)
    except ValueError as error:
        raise AnswerFormatError(f"the {media_type(content_type)} answer is not valid JSON: {error}") from None
    if isinstance(document, dict):
        if "predictions" not in document:
            keys = ", ".join(repr(key) for key in list(document)[:5]) or "none"
            raise AnswerFormatError(
                f"the JSON answer is an object without 'predictions' (keys: {keys}); expected "
                '{"predictions": [...]} or a list'
            )
        items = document["predictions"]
        if not isinstance(items, list):
            raise AnswerFormatError(
                f"the JSON answer's 'predictions' is a {_json_kind(items)}, not a list of answers"
            )
    elif isinstance(document, list):
        items = document
    else:
        raise AnswerFormatError(
            f'the JSON answer is a {_json_kind(document)}; expected {{"predictions": [...]}} or a list'
        )
    return tuple(item if isinstance(item, str) else json.dumps(item, separators=(",", ":")) for item in items)


def _json_kind(value: object) -> str:
    kinds: tuple[tuple[type | tuple[type, ...], str], ...] = (
        (bool, "boolean"),
        ((int, float), "number"),
        (str, "string"),
        (dict, "object"),
        (list, "list"),
    )
    return next((kind for types, kind in kinds if isinstance(value, types)), "null")


def as_number(text: str) -> float | None:
    """The finite number an answer spells, else None (`nan`, `inf`, words and JSON booleans are not)."""
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def same_answer(answer: str, option: str) -> bool:
    """Equal as text, or both finite numbers of equal value (`1.0` is `1`)."""
    if answer == option:
        return True
    left, right = as_number(answer), as_number(option)
    return left is not None and right is not None and left == right


def check_answers(answers: Sequence[str], raw: str, expect: SmokeTestExpectation) -> list[str]:
    """What is wrong with `answers` (from the response text `raw`) by `expect`; empty when it holds."""
    problems: list[str] = []
    value_rules = bool(expect.one_of) or expect.min_value is not None or expect.max_value is not None
    if expect.answers is not None and len(answers) != expect.answers:
        problems.append(f"expected {_count(expect.answers, 'answer')}, got {len(answers)}")
    elif not answers and value_rules:
        problems.append("the response holds no answers to check one_of, min_value or max_value against")
    if expect.one_of:
        options = ", ".join(repr(option) for option in expect.one_of)
        problems += _first_offence(
            f"answer {index} {_show(answer)} is not one of {options}"
            for index, answer in enumerate(answers, start=1)
            if not any(same_answer(answer, option) for option in expect.one_of)
        )
    if expect.min_value is not None or expect.max_value is not None:
        problems += _range_problems(answers, expect.min_value, expect.max_value)
    if expect.contains is not None and expect.contains not in raw:
        problems.append(f"the answer does not contain {expect.contains!r}")
    return problems


def _range_problems(answers: Sequence[str], low: float | None, high: float | None) -> list[str]:
    bounds = " and ".join(
        f"{name} {value}" for name, value in (("min_value", low), ("max_value", high)) if value is not None
    )
    not_numbers: list[str] = []
    below: list[str] = []
    above: list[str] = []
    for index, answer in enumerate(answers, start=1):
        number = as_number(answer)
        if number is None:
            not_numbers.append(f"answer {index} {_show(answer)} is not a number ({bounds})")
        elif low is not None and number < low:
            below.append(f"answer {index} {_show(answer)} is below min_value {low}")
        elif high is not None and number > high:
            above.append(f"answer {index} {_show(answer)} is above max_value {high}")
    return _first_offence(not_numbers) + _first_offence(below) + _first_offence(above)


def _first_offence(offences: Iterable[str]) -> list[str]:
    """The first of a rule's offences, with how many more there are: one line per rule, not per answer."""
    listed = list(offences)
    if len(listed) > 1:
        return [f"{listed[0]} (and {len(listed) - 1} more)"]
    return listed


def _show(answer: str) -> str:
    return repr(answer if len(answer) <= ANSWER_TEXT_CHARS else answer[:ANSWER_TEXT_CHARS] + "...")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True)
class Verdict:
    """One smoke test's answer judged: the answers read (None if unreadable) and what is wrong."""

    answers: tuple[str, ...] | None
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def judge(body: bytes, content_type: str | None, expect: SmokeTestExpectation) -> Verdict:
    """Parse a response body and check it against `expect`."""
    try:
        raw = decode_answer(body)
        answers = parse_answers(raw, content_type)
    except AnswerFormatError as error:
        return Verdict(answers=None, problems=(str(error),))
    return Verdict(answers=answers, problems=tuple(check_answers(answers, raw, expect)))


# --- the command ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmokeTestRequest:
    """What the person asked for, checked by `validate` before the configuration is read."""

    environment: str
    endpoints: tuple[str, ...] = ()
    region: str | None = None
    config_dir: Path = Path("config")
    timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS

    def validate(self) -> None:
        if not ENVIRONMENT_NAME_PATTERN.fullmatch(self.environment):
            raise CommandError(
                f"--env '{self.environment}' is not an environment name: a lower-case letter, then up to 19 "
                "lower-case letters, digits or '-' (the name of a file in the config folder)"
            )
        if not 1 <= self.timeout_seconds <= MAX_TIMEOUT_SECONDS:
            raise CommandError(f"--timeout-seconds must be between 1 and {MAX_TIMEOUT_SECONDS}")
        if not self.config_dir.is_dir():
            raise CommandError(
                f"--config-dir {self.config_dir}: no such folder; run from the repository root or pass "
                "--config-dir with the platform's config folder"
            )


class EndpointClients:
    """The clients of one run, in one region, created on first use.

    The runtime client makes one attempt per request (no retries), with `timeout_seconds` to answer, so
    the time measured is one request's and a slow model fails its test instead of being retried.
    """

    def __init__(self, session_factory: SessionFactory, *, region: str, timeout_seconds: int) -> None:
        self._session_factory = session_factory
        self.region = region
        self.timeout_seconds = timeout_seconds

    @cached_property
    def session(self) -> boto3.Session:
        return self._session_factory(self.region)

    @cached_property
    def sagemaker(self) -> SageMakerClient:
        return self.session.client("sagemaker", region_name=self.region)

    @cached_property
    def runtime(self) -> RuntimeClient:
        config = Config(
            connect_timeout=min(CONNECT_TIMEOUT_SECONDS, self.timeout_seconds),
            read_timeout=self.timeout_seconds,
            retries={"mode": "standard", "total_max_attempts": 1},
        )
        client: RuntimeClient = self.session.client(
            "sagemaker-runtime", region_name=self.region, config=config
        )
        return client


@dataclass(frozen=True)
class Outcome:
    """One smoke test run: PASS with its time and answers, or FAIL with the reasons."""

    endpoint: str
    test: str
    problems: tuple[str, ...]
    elapsed_ms: int | None = None
    answers: int | None = None

    @property
    def passed(self) -> bool:
        return not self.problems

    @property
    def line(self) -> str:
        if self.passed:
            answers = _count(self.answers or 0, "answer")
            return f"PASS {self.endpoint}/{self.test} {self.elapsed_ms} ms ({answers})"
        return f"FAIL {self.endpoint}/{self.test}: {'; '.join(self.problems)}"


def smoke_test(
    request: SmokeTestRequest,
    *,
    session_factory: SessionFactory,
    console: Console,
    clock: Callable[[], float] = time.perf_counter,
) -> int:
    """Run the command; returns the exit code, or raises CommandError with the message and exit code."""
    request.validate()
    platform = load_configuration(request.config_dir, then=", then run the smoke test again")
    environment = _environment(platform, request)
    endpoints = _selected_endpoints(environment, request)
    region = request.region or environment.region
    if region != environment.region:
        console.info(
            f"note: --region {region} is not {environment.name}'s configured region {environment.region}"
        )
    clients = EndpointClients(session_factory, region=region, timeout_seconds=request.timeout_seconds)
    return _SmokeTestRun(environment, endpoints, clients, console, clock).run()


def _environment(platform: PlatformConfig, request: SmokeTestRequest) -> EnvironmentConfig:
    environment = configured_environment(
        platform,
        request.config_dir,
        request.environment,
        asked_as=f"--env '{request.environment}' is not configured",
    )
    if environment.serving is None:
        serving = sorted(name for name, other in platform.environments.items() if other.serving is not None)
        raise CommandError(
            f"environment '{environment.name}' serves no endpoints (no serving section in "
            f"{request.config_dir / environment.name}.yaml): nothing to smoke-test. Environments with "
            f"endpoints: {', '.join(serving) or 'none'}"
        )
    if not environment.serving.deployed_endpoints:
        raise CommandError(
            f"environment '{environment.name}' has no deployed endpoint: every model_package in "
            f"{request.config_dir / environment.name}.yaml says approved: false. Deploy the approved "
            "version first (make first-deploy-plan shows the order)"
        )
    return environment


def _selected_endpoints(
    environment: EnvironmentConfig, request: SmokeTestRequest
) -> tuple[EndpointConfig, ...]:
    assert environment.serving is not None  # checked in `_environment`
    # An endpoint whose version is not approved yet is not deployed: there is nothing to test.
    configured = {endpoint.name: endpoint for endpoint in environment.serving.deployed_endpoints}
    if not request.endpoints:
        return tuple(configured.values())
    unknown = [name for name in request.endpoints if name not in configured]
    if unknown:
        names = ", ".join(f"'{name}'" for name in unknown)
        raise CommandError(
            f"--endpoint {names}: not {'an endpoint' if len(unknown) == 1 else 'endpoints'} of "
            f"environment '{environment.name}' (endpoints whose model_package says approved: false are not "
            f"deployed); deployed: {', '.join(configured)}"
        )
    return tuple(configured[name] for name in dict.fromkeys(request.endpoints))


class _SmokeTestRun:
    """One run of the command: the endpoints checked first, then every smoke test sent."""

    def __init__(
        self,
        environment: EnvironmentConfig,
        endpoints: tuple[EndpointConfig, ...],
        clients: EndpointClients,
        console: Console,
        clock: Callable[[], float],
    ) -> None:
        self.environment = environment
        self.endpoints = endpoints
        self.clients = clients
        self.console = console
        self.clock = clock

    @property
    def where(self) -> str:
        return f"{self.environment.name} in {self.clients.region}"

    def run(self) -> int:
        tests = sum(len(endpoint.smoke_tests) for endpoint in self.endpoints)
        self.console.info(
            f"smoke-testing {_count(len(self.endpoints), 'endpoint')} ({_count(tests, 'test')}) of "
            f"{self.where}, account {self.environment.account_id}"
        )
        try:
            self._require_in_service()
            outcomes = [
                self._run_test(endpoint, test) for endpoint in self.endpoints for test in endpoint.smoke_tests
            ]
        except (BotoCoreError, ClientError, Boto3Error) as error:
            raise CommandError(self._describe(error)) from error
        except KeyboardInterrupt:
            raise CommandError("interrupted", exit_code=EXIT_INTERRUPTED) from None
        failed = sum(not outcome.passed for outcome in outcomes)
        self.console.result(f"{len(outcomes) - failed} passed, {failed} failed: {self.where}")
        return EXIT_TESTS_FAILED if failed else EXIT_OK

    def _require_in_service(self) -> None:
        problems: list[str] = []
        for endpoint in self.endpoints:
            description = self.clients.sagemaker.describe_endpoint(EndpointName=endpoint.name)
            status = description["EndpointStatus"]
            if status != IN_SERVICE:
                problems.append(self._status_problem(endpoint.name, status, description.get("FailureReason")))
        if problems:
            raise CommandError("\n".join(problems), exit_code=EXIT_USAGE)

    def _status_problem(self, name: str, status: str, reason: str | None) -> str:
        text = f"endpoint {name} ({self.where}) is {status}, not {IN_SERVICE}"
        if status in TRANSIENT_STATUSES:
            return (
                f"{text}: wait until it is {IN_SERVICE} (aws sagemaker wait endpoint-in-service "
                f"--endpoint-name {name} --region {self.clients.region}), then run the smoke test again"
            )
        if status in FAILED_STATUSES:
            because = f" ({reason})" if reason else ""
            return f"{text}{because}: fix the cause and deploy {self.environment.name}'s serving stack again"
        return f"{text}: it must be deployed and {IN_SERVICE}; deploy {self.environment.name}'s serving stack"

    def _run_test(self, endpoint: EndpointConfig, test: SmokeTestConfig) -> Outcome:
        started = self.clock()
        try:
            response = self.clients.runtime.invoke_endpoint(
                EndpointName=endpoint.name,
                Body=test.body.encode("utf-8"),
                ContentType=test.content_type,
                Accept=test.accept,
            )
            body: bytes = response["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ModelError":
                raise
            outcome = Outcome(endpoint.name, test.name, (_model_error(error),))
            self.console.result(outcome.line)
            return outcome
        except ReadTimeoutError:
            outcome = Outcome(
                endpoint.name,
                test.name,
                (f"no answer within {self.clients.timeout_seconds} s (--timeout-seconds)",),
            )
            self.console.result(outcome.line)
            return outcome
        elapsed_ms = round((self.clock() - started) * 1000)
        content_type = response.get("ContentType") or test.accept
        verdict = judge(body, content_type, test.expect)
        outcome = Outcome(
            endpoint.name,
            test.name,
            verdict.problems,
            elapsed_ms=elapsed_ms,
            answers=len(verdict.answers) if verdict.answers is not None else None,
        )
        self.console.result(outcome.line)
        if not outcome.passed:
            self.console.info(f"  {endpoint.name}/{test.name} answered ({content_type}): {_preview(body)}")
        return outcome

    def _describe(self, error: BotoCoreError | ClientError | Boto3Error) -> str:
        if isinstance(error, ClientError):
            details = error.response.get("Error", {})
            code = details.get("Code", "Unknown")
            message = details.get("Message", "")
            text = f"AWS {error.operation_name} failed with {code}" + (f": {message}" if message else "")
            account = self.environment.account_id
            if code in {"ValidationException", "ValidationError"} and (
                "Could not find endpoint" in message or "not found" in message
            ):
                return (
                    f"{text}. The endpoint does not exist in {self.where}: deploy "
                    f"{self.environment.name}'s serving stack, and check that your credentials are for "
                    f"account {account} and the region is right (--region)"
                )
            if "AccessDenied" in code:
                return (
                    f"{text}. Your credentials may not call {error.operation_name}: use a role of account "
                    f"{account} that may describe and invoke {self.environment.name}'s endpoints "
                    "(sagemaker:DescribeEndpoint, sagemaker:InvokeEndpoint)"
                )
        return describe_aws_error(error)


def _model_error(error: ClientError) -> str:
    """The model's own status and message from a ModelError (the container answered 4xx or 5xx)."""
    response: Mapping[str, Any] = error.response
    status = response.get("OriginalStatusCode")
    message = response.get("OriginalMessage") or response.get("Error", {}).get("Message", "")
    flat = " ".join(str(message).split())
    log = response.get("LogStreamArn")
    where = f" (log stream {log})" if log else ""
    return f"the model answered {status if status is not None else 'an error'}: {flat}{where}"


def _preview(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    flat = text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + f"... ({len(body)} bytes)"
    return repr(flat)
