"""A model package group of the registry, readable by the serving roles of other accounts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import CfnTag, RemovalPolicy, Stack
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from constructs_lib.shared.cross_account import account_of, role_principals

# What a serving account needs to deploy a registered model version, and nothing more.
SERVING_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)


class ModelPackageGroup(Construct):
    """`AWS::SageMaker::ModelPackageGroup` with a resource policy that lets the given roles of other
    accounts describe and use the group's packages. Name and description are create-only: changing
    either replaces the group (and its versions go with it), which is why it is retained outside
    disposable environments. Exposes `name` and `arn`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        description: str,
        reader_role_arns: Sequence[str],
        removal_policy: RemovalPolicy,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.name = group_name
        self.arn = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=group_name
        )
        # SageMaker writes the group's name lower-cased in its versions' ARNs.
        versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            for name in sorted({group_name, group_name.lower()})
        ]
        policy = None
        if reader_role_arns:
            # A plain JSON document (the property is untyped): the same principals and condition as IAM's.
            _, only_those_roles = role_principals(reader_role_arns)
            accounts = sorted({account_of(arn) for arn in reader_role_arns})
            policy = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "ServingRolesUseThePackages",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [f"arn:{stack.partition}:iam::{account}:root" for account in accounts]
                        },
                        "Action": list(SERVING_ACTIONS),
                        # A group policy must name both the group and its versions.
                        "Resource": [self.arn, *versions],
                        "Condition": only_those_roles,
                    }
                ],
            }
        self.resource = sagemaker.CfnModelPackageGroup(
            self,
            "Resource",
            model_package_group_name=group_name,
            model_package_group_description=description,
            model_package_group_policy=policy,
            tags=[CfnTag(key=key, value=value) for key, value in sorted((tags or {}).items())] or None,
        )
        self.resource.apply_removal_policy(removal_policy)
