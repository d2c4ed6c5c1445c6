"""The entry point of an event-driven function: settings read once per execution environment, clients made
once with standard retries, and every failure logged in one line before it is raised.

A misconfigured function raises on every event (it must not decide anything until someone fixes it); an AWS
error raises so that Lambda retries and a persistent failure lands in the dead-letter queue.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TypeVar

from botocore.config import Config
from botocore.exceptions import ClientError

from functions._runtime.logs import EventLog

Settings = TypeVar("Settings")
Result = TypeVar("Result")

# Standard retries back off on throttling; short timeouts leave the function time to retry within its own.
CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=15)


class ConfigurationError(RuntimeError):
    """The function's environment is wrong: it must not decide anything until someone fixes it."""


def client_region() -> str | None:
    """Lambda's region; None outside Lambda: boto3's own resolution (AWS_DEFAULT_REGION, config)."""
    return os.environ.get("AWS_REGION") or None


def run(
    log: EventLog,
    name: str,
    *,
    settings: Callable[[], Settings],
    decide: Callable[[Settings], Result],
) -> Result:
    """`decide(settings())`, logging a ConfigurationError or an AWS error (as `<name> is misconfigured`,
    `<name> failed on an AWS call; Lambda will retry`) before raising it."""
    try:
        loaded = settings()
    except ConfigurationError as error:
        log(logging.ERROR, f"{name} is misconfigured", error=str(error))
        raise
    try:
        return decide(loaded)
    except ClientError as error:
        log(
            logging.ERROR,
            f"{name} failed on an AWS call; Lambda will retry",
            error_code=error.response.get("Error", {}).get("Code"),
            operation=error.operation_name,
            error=str(error),
        )
        raise
