"""An ECR repository for platform images, hardened and shared with the serving accounts."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.shared.cross_account import account_of, role_principals

# What pulling an image takes (the registry token aside).
PULL_ACTIONS = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
PUSH_ACTIONS = (
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


class ImageRepository(Construct):
    """`AWS::ECR::Repository`: scan on push, immutable tags, KMS, lifecycle rules, a strict policy.

    The repository policy lets the given serving roles and SageMaker (on behalf of this account or
    theirs) pull, and denies every push that does not come from the build role. Exposes `repository`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repository_name: str,
        encryption_key: kms.IKey,
        keep_tagged_images: int,
        expire_untagged_after_days: int,
        pull_role_arns: Sequence[str],
        push_role_arn: str,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.repository = ecr.Repository(
            self,
            "Repository",
            # A fixed name: the build command, Studio images and serving accounts refer to it.
            repository_name=repository_name,
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=encryption_key,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description=f"Expire untagged images after {expire_untagged_after_days} days",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=Duration.days(expire_untagged_after_days),
                ),
                ecr.LifecycleRule(
                    rule_priority=2,
                    description=f"Keep the last {keep_tagged_images} tagged images",
                    tag_status=ecr.TagStatus.TAGGED,
                    tag_pattern_list=["*"],
                    max_image_count=keep_tagged_images,
                ),
            ],
            removal_policy=removal_policy,
            # A disposable environment's repositories go with their images; elsewhere they are retained.
            empty_on_delete=removal_policy == RemovalPolicy.DESTROY,
        )
        own_account = Stack.of(self).account
        if pull_role_arns:
            principals, only_those_roles = role_principals(pull_role_arns)
            self.repository.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="ServingRolesPull",
                    principals=principals,
                    actions=list(PULL_ACTIONS),
                    conditions=only_those_roles,
                )
            )
        accounts = sorted({account_of(arn) for arn in pull_role_arns} - {own_account})
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SageMakerPullForThePlatformsAccounts",
                principals=[iam.ServicePrincipal("sagemaker.amazonaws.com")],
                actions=list(PULL_ACTIONS),
                conditions={"StringEquals": {"aws:SourceAccount": sorted({own_account, *accounts})}},
            )
        )
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PushOnlyFromTheBuildRole",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=list(PUSH_ACTIONS),
                conditions={"ArnNotEquals": {"aws:PrincipalArn": push_role_arn}},
            )
        )
