"""Deterministic names of resources other stacks and accounts refer to, derived from configuration.

Both sides of a reference (another stack, another account) compute the same name from the same
configuration, so neither needs an export or a lookup.
"""

from __future__ import annotations

from platform_config.models import EnvironmentConfig


def artifact_bucket_name(environment: EnvironmentConfig) -> str:
    """Globally unique through the account id; at most 61 characters for the longest names allowed."""
    return f"{environment.name}-ml-artifacts-{environment.account_id}-{environment.region}"
