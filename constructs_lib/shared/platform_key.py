"""A customer-managed KMS key for one purpose (data, Studio storage, logs)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.shared.cross_account import role_principals


class PlatformKey(Construct):
    """Symmetric KMS key with yearly rotation and an alias.

    Exposes `key`. Outside disposable environments the key is retained: deleting it would make every
    object, volume and log encrypted with it unreadable.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alias: str,
        description: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self,
            "Key",
            alias=alias,
            description=description,
            enable_key_rotation=True,
            pending_window=Duration.days(30),
            removal_policy=removal_policy,
        )

    def allow_decrypt_through(self, *, service: str, role_arns: Sequence[str]) -> None:
        """Let roles of other accounts decrypt with the key, only through one AWS service of this region
        (serving roles reading model artifacts through S3, or pulling images through ECR)."""
        if not role_arns:
            return
        stack = Stack.of(self)
        principals, only_those_roles = role_principals(role_arns)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"OtherAccountsDecryptThrough{service.upper()}",
                principals=principals,
                actions=["kms:Decrypt", "kms:DescribeKey"],
                resources=["*"],
                conditions={
                    **only_those_roles,
                    "StringEquals": {"kms:ViaService": f"{service}.{stack.region}.amazonaws.com"},
                },
            )
        )

    def allow_cloudwatch_logs(self) -> None:
        """Let CloudWatch Logs use the key, for this account's log groups only."""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                # No kms:Describe*: DescribeKey carries no encryption context, so under this condition it
                # could never be allowed anyway.
                actions=["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
                # In a key policy "*" is the key itself.
                resources=["*"],
                # The reference types the encryption-context keys as strings: a String operator, which for
                # this pattern matches exactly what ArnLike would.
                conditions={
                    "StringLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
