"""One log line per event: the message, then key=value pairs, at INFO unless Lambda sets the level.

Lambda's text log format leaves the root logger at WARNING; with its JSON format and an application log
level, the runtime sets AWS_LAMBDA_LOG_LEVEL and the level is left to it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass

# LogRecord's own attributes: `extra` may not set them (logging raises KeyError), so a field named like one
# (`name`, `message`, ...) stays in the rendered line only.
RECORD_ATTRIBUTES = frozenset(
    {*logging.LogRecord("", logging.INFO, "", 0, "", (), None).__dict__, "message", "asctime"}
)


@dataclass(frozen=True)
class EventLog:
    """`log(level, message, **fields)`: one searchable line, values JSON-encoded.

    The fields also go in `extra` (but those named like a LogRecord attribute), which Lambda's JSON log
    format turns into top-level keys.
    """

    logger: logging.Logger

    def __call__(self, level: int, message: str, /, **fields: object) -> None:
        rendered = " ".join(f"{key}={json.dumps(value, default=str)}" for key, value in fields.items())
        extra = {key: value for key, value in fields.items() if key not in RECORD_ATTRIBUTES}
        self.logger.log(level, "%s %s", message, rendered, extra=extra)


def event_log(name: str) -> EventLog:
    """The function's logger (named for its package, so tests can capture it), at INFO outside Lambda's
    own level setting."""
    logger = logging.getLogger(name)
    if "AWS_LAMBDA_LOG_LEVEL" not in os.environ:
        logger.setLevel(logging.INFO)
    return EventLog(logger)
