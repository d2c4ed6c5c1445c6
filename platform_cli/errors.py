"""Exit codes, and AWS errors turned into one message that names the problem and the fix."""

from __future__ import annotations

from boto3.exceptions import Boto3Error
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    SSOError,
    TokenRetrievalError,
)

EXIT_OK = 0
EXIT_BUILD_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

CREDENTIALS_HINT = (
    "configure AWS credentials for the platform's account (for example `aws sso login --profile <name>` "
    "and AWS_PROFILE=<name>, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
)
REGION_HINT = "pass --region, set AWS_REGION, or set a region in your AWS profile"
_EXPIRED_CREDENTIALS_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)


class CommandError(Exception):
    """Ends the command with `exit_code` and this message on stderr, without a traceback."""

    def __init__(self, message: str, *, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


# Errors raised on this machine, before or instead of a response from AWS.
_LOCAL_ERROR_MESSAGES: tuple[tuple[tuple[type[Exception], ...], str], ...] = (
    (
        (NoCredentialsError, PartialCredentialsError),
        "no usable AWS credentials ({error}): " + CREDENTIALS_HINT,
    ),
    (
        (CredentialRetrievalError, TokenRetrievalError, SSOError),
        "cannot load AWS credentials ({error}): " + CREDENTIALS_HINT,
    ),
    ((ProfileNotFound,), "{error}: set AWS_PROFILE to a profile of your AWS config, or unset it"),
    ((NoRegionError,), "no AWS region: " + REGION_HINT),
    (
        (EndpointConnectionError,),
        "cannot reach AWS ({error}): check the network connection, proxy settings and --region",
    ),
)


def describe_aws_error(error: BotoCoreError | ClientError | Boto3Error) -> str:
    """One message for an AWS failure: which call, which error, and what to do about it."""
    if isinstance(error, ClientError):
        return _describe_client_error(error)
    for error_types, template in _LOCAL_ERROR_MESSAGES:
        if isinstance(error, error_types):
            return template.format(error=error)
    return f"AWS call failed: {error}"


def _describe_client_error(error: ClientError) -> str:
    details = error.response.get("Error", {})
    code = details.get("Code", "Unknown")
    message = details.get("Message", "")
    text = f"AWS {error.operation_name} failed with {code}" + (f": {message}" if message else "")
    if code in _EXPIRED_CREDENTIALS_CODES:
        return f"{text}. The credentials are expired or invalid: {CREDENTIALS_HINT}"
    if "AccessDenied" in code or code == "UnauthorizedOperation":
        return (
            f"{text}. Your credentials may not call {error.operation_name}: use a role that may build "
            "images in this environment"
        )
    return text
