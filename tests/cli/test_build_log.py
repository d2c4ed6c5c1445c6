"""Following a build's CloudWatch log: paging, no repeated lines, the tail kept for a failure report."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from platform_cli.build_log import BuildLog, format_elapsed

GROUP = "/aws/codebuild/dev-image-build"
STREAM = "build-1"
BUILD: Any = {"id": "p:1", "logs": {"groupName": GROUP, "streamName": STREAM}}


def page(token: str, *messages: str) -> dict[str, Any]:
    return {
        "events": [{"timestamp": index, "message": message} for index, message in enumerate(messages)],
        "nextForwardToken": token,
        "nextBackwardToken": "b/0",
    }


def expect(stubber: Stubber, response: dict[str, Any], token: str | None) -> None:
    params: dict[str, Any] = {"logGroupName": GROUP, "logStreamName": STREAM, "startFromHead": True}
    if token is not None:
        params["nextToken"] = token
    stubber.add_response("get_log_events", response, expected_params=params)


def test_reads_every_page_then_continues_from_the_last_token() -> None:
    logs = boto3.Session(region_name="eu-west-1").client("logs")
    shown: list[str] = []
    log = BuildLog(logs, shown.append, tail_lines=3)
    with Stubber(logs) as stubber:
        expect(stubber, page("f/1", "one\n", "two\n"), None)
        expect(stubber, page("f/2", "three\nfour\n"), "f/1")  # one event, two lines
        expect(stubber, page("f/2"), "f/2")  # the end: CloudWatch returns the same token
        log.follow(BUILD)
        expect(stubber, page("f/3", "five\n"), "f/2")
        expect(stubber, page("f/3"), "f/3")
        log.follow(BUILD)
        stubber.assert_no_pending_responses()

    assert shown == ["one", "two", "three", "four", "five"]
    assert log.tail == ["three", "four", "five"]


def test_nothing_is_read_until_the_build_names_its_log_stream() -> None:
    logs = boto3.Session(region_name="eu-west-1").client("logs")
    log = BuildLog(logs, lambda line: pytest.fail(f"unexpected line {line}"))
    with Stubber(logs) as stubber:
        log.follow({"id": "p:1", "logs": {"deepLink": "https://console.aws.amazon.com/"}})
        stubber.assert_no_pending_responses()

    assert log.tail == []


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0, "0:00"), (42.9, "0:42"), (725, "12:05"), (3723, "1:02:03")]
)
def test_elapsed_time_format(seconds: float, shown: str) -> None:
    assert format_elapsed(seconds) == shown
