"""Follows a CodeBuild build: its log in CloudWatch Logs and a phase and elapsed-time indication."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_codebuild.type_defs import BuildTypeDef
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_logs.type_defs import GetLogEventsResponseTypeDef

TAIL_LINES = 20
# A busy build writes many pages between polls; cap the pages read per poll so progress keeps showing.
MAX_PAGES_PER_POLL = 20


def format_elapsed(seconds: float) -> str:
    """`0:42`, `12:05`, `1:02:03`."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class BuildLog:
    """Prints new log lines of a build each time `follow` is called, and keeps the last few.

    The log stream appears only once the build host runs, so a missing group or stream is not an
    error: there is nothing to show yet.
    """

    def __init__(
        self, logs: CloudWatchLogsClient, emit: Callable[[str], None], *, tail_lines: int = TAIL_LINES
    ) -> None:
        self._logs = logs
        self._emit = emit
        self._token: str | None = None
        self._tail: deque[str] = deque(maxlen=tail_lines)
        self.group_name: str | None = None
        self.stream_name: str | None = None

    @property
    def tail(self) -> list[str]:
        return list(self._tail)

    def follow(self, build: BuildTypeDef) -> None:
        location = build.get("logs", {})
        self.group_name = location.get("groupName") or self.group_name
        self.stream_name = location.get("streamName") or self.stream_name
        if self.group_name is None or self.stream_name is None:
            return
        for _ in range(MAX_PAGES_PER_POLL):
            try:
                response = self._read_page(self.group_name, self.stream_name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                    return
                raise
            for event in response.get("events", []):
                for line in event.get("message", "").rstrip("\r\n").splitlines() or [""]:
                    self._tail.append(line)
                    self._emit(line)
            next_token = response.get("nextForwardToken")
            # CloudWatch Logs hands back the same token once the stream has nothing newer.
            reached_end = next_token == self._token or not response.get("events")
            self._token = next_token or self._token
            if reached_end:
                return

    def _read_page(self, group_name: str, stream_name: str) -> GetLogEventsResponseTypeDef:
        if self._token is None:
            return self._logs.get_log_events(
                logGroupName=group_name, logStreamName=stream_name, startFromHead=True
            )
        return self._logs.get_log_events(
            logGroupName=group_name, logStreamName=stream_name, startFromHead=True, nextToken=self._token
        )


class Progress:
    """`[BUILD 0:42] phase started` when the phase changes, and a `still running` line now and then."""

    def __init__(self, emit: Callable[[str], None], *, heartbeat_seconds: float) -> None:
        self._emit = emit
        self._heartbeat_seconds = heartbeat_seconds
        self._phase: str | None = None
        self._last_shown = 0.0

    def update(self, phase: str, elapsed: float) -> None:
        if phase != self._phase:
            self._phase = phase
            self._last_shown = elapsed
            self._emit(f"[{phase} {format_elapsed(elapsed)}] phase started")
        elif elapsed - self._last_shown >= self._heartbeat_seconds:
            self._last_shown = elapsed
            self._emit(f"[{phase} {format_elapsed(elapsed)}] still running")
