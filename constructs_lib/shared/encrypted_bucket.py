"""A data bucket hardened the same way everywhere in the platform."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnResource, CustomResourceProviderBase, Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge
from constructs_lib.shared.cross_account import role_principals

# Everything that changes or removes what a reader of an object gets: writes (PutObject also covers copies
# and multipart uploads), deletes of objects and versions, ACLs (already off with BucketOwnerEnforced),
# tags (lifecycle rules and ABAC read them), retention and legal holds, aborting another writer's upload,
# and replication into the bucket. Not s3:RestoreObject: it makes a temporary copy of an archived object
# and changes nothing a reader gets.
OBJECT_WRITE_ACTIONS = (
    "s3:AbortMultipartUpload",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
)
# The stack-wide provider CDK adds for `auto_delete_objects` (its construct id, which CDK fixes).
_AUTO_DELETE_PROVIDER = "Custom::S3AutoDeleteObjectsCustomResourceProvider"


def quiet_auto_delete_provider(stack: Stack) -> None:
    """CDK's auto-delete provider declares its role dependency twice (cfn-lint W3005): intended."""
    provider = stack.node.try_find_child(_AUTO_DELETE_PROVIDER)
    handler = provider.node.try_find_child("Handler") if provider is not None else None
    if isinstance(handler, CfnResource):
        handler.add_metadata("cfn-lint", {"config": {"ignore_checks": ["W3005"]}})


class EncryptedBucket(Construct):
    """Versioned, SSE-KMS (customer key, bucket key on), TLS-only, private, access-logged bucket.

    Exposes `bucket`. Pass `bucket_name` only when another stack or account refers to the bucket by name.
    `auto_delete_objects` (a disposable environment only: it needs `RemovalPolicy.DESTROY`) empties the
    bucket when it is deleted, through CDK's provider function.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str | None = None,
        encryption_key: kms.IKey,
        access_logs_bucket: s3.IBucket,
        access_logs_prefix: str,
        removal_policy: RemovalPolicy,
        noncurrent_version_retention_days: int = 90,
        expire_objects_after_days: int | None = None,
        event_bridge_enabled: bool = False,
        auto_delete_objects: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=encryption_key,
            bucket_key_enabled=True,
            versioned=True,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            server_access_logs_bucket=access_logs_bucket,
            server_access_logs_prefix=access_logs_prefix,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-old-versions",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_retention_days),
                    # For transient content (build sources): current objects expire too.
                    expiration=Duration.days(expire_objects_after_days)
                    if expire_objects_after_days
                    else None,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=removal_policy,
            auto_delete_objects=auto_delete_objects,
        )
        if auto_delete_objects:
            quiet_auto_delete_provider(Stack.of(self))
        if event_bridge_enabled:
            # Object events on the default bus ("new data starts a pipeline"), set on the resource itself:
            # the L2 option would add a custom-resource function for it.
            cfn_bucket = self.bucket.node.default_child
            assert isinstance(cfn_bucket, s3.CfnBucket)
            cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
                event_bridge_configuration=s3.CfnBucket.EventBridgeConfigurationProperty(
                    event_bridge_enabled=True
                )
            )
        acknowledge(
            self.bucket,
            "NIST.800.53.R5-S3BucketReplicationEnabled",
            "Versioning and retention protect against deletion in-region; cross-region replication is "
            "a disaster-recovery choice per environment, not a platform default.",
        )

    def allow_read_by_roles(self, *, prefix: str, role_arns: Sequence[str]) -> None:
        """Let roles of other accounts read objects under one prefix (and nothing else of the bucket)."""
        if not role_arns:
            return
        principals, only_those_roles = role_principals(role_arns)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OtherAccountRolesRead",
                principals=principals,
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{prefix}/*")],
                conditions=only_those_roles,
            )
        )

    def reserve_prefix_for_writers(self, *, prefix: str, writer_role_arns: Sequence[str]) -> None:
        """Only the given roles of this account may write, overwrite or delete objects under one prefix.

        An explicit Deny for every other principal, which no identity policy can outweigh (an admin must
        change this policy first). The roles are named by ARN in an `aws:PrincipalArn` condition, so they
        need not exist yet (another stack may create them). Without writers, nobody may write there. With
        `auto_delete_objects`, CDK's provider role may still empty the bucket when it is deleted.
        """
        writers = sorted(set(writer_role_arns))
        if self.bucket.node.try_find_child("AutoDeleteObjectsCustomResource") is not None:
            provider = Stack.of(self).node.try_find_child(_AUTO_DELETE_PROVIDER)
            assert isinstance(provider, CustomResourceProviderBase), "CDK's auto-delete provider moved"
            writers.append(provider.role_arn)
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"OnlyNamedRolesWrite{_pascal(prefix)}",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(OBJECT_WRITE_ACTIONS),
                resources=[self.bucket.arn_for_objects(f"{prefix}/*")],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": writers}} if writers else None,
            )
        )


def _pascal(prefix: str) -> str:
    """`models` -> `Models`, `data/raw` -> `DataRaw`: a statement id (letters and digits only)."""
    return "".join(part.title() for part in prefix.replace("-", "/").replace("_", "/").split("/") if part)
