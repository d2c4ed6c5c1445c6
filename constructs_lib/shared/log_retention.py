"""The CloudWatch Logs retention periods the configuration allows: flow logs, functions and build logs."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

# The retention periods the configuration allows (platform_config's LogRetentionDays, which a test keeps
# equal to these keys), as CloudWatch Logs names them.
RETENTION_BY_DAYS = {
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def retention(days: int, *, field: str) -> logs.RetentionDays:
    """The retention period of `days`; a ValueError naming the construct's argument `field` otherwise."""
    if days not in RETENTION_BY_DAYS:
        raise ValueError(f"{field} must be one of {sorted(RETENTION_BY_DAYS)}, got {days}")
    return RETENTION_BY_DAYS[days]
