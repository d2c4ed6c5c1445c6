"""Naming roles of other accounts in resource and trust policies without depending on deploy order."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import aws_iam as iam

ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]+")


def role_principals(role_arns: Sequence[str]) -> tuple[list[iam.IPrincipal], dict[str, dict[str, object]]]:
    """The accounts of the roles as principals, and a condition that admits exactly those roles.

    IAM, S3, KMS and ECR reject a policy whose principal is a role that does not exist yet, so naming the
    role itself would force one account to deploy before the other (and two-way grants could never
    deploy). The account principal with an `aws:PrincipalArn` condition grants the same, in any order.
    """
    arns = sorted(set(role_arns))
    accounts = sorted({account_of(arn) for arn in arns})
    principals: list[iam.IPrincipal] = [iam.AccountPrincipal(account) for account in accounts]
    return principals, {"ArnEquals": {"aws:PrincipalArn": arns}}


def account_of(role_arn: str) -> str:
    match = ROLE_ARN.fullmatch(role_arn)
    if match is None:
        raise ValueError(f"'{role_arn}' is not an IAM role ARN")
    return match.group(1)
