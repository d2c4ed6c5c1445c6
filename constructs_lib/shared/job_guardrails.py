"""IAM conditions that keep SageMaker jobs and models in the platform's network and under its data key, the
EC2 actions SageMaker takes with a role to place them in that network, and the pass of the role they run as.

Shared by the roles that create jobs: the persona execution roles (Studio users) and the pipeline role. The
condition keys are those the service authorization reference lists for the actions, with operators of
their types (tests/iam checks both, and evaluates requests against them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import aws_iam as iam

# What SageMaker does with a job's or endpoint's role to attach it to the subnets: the interfaces (EC2
# assigns their ids) and the describe calls (which support no resource-level scope).
SAGEMAKER_NETWORK_INTERFACE_ACTIONS = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
]
SAGEMAKER_NETWORK_DESCRIBE_ACTIONS = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
]
SAGEMAKER_VPC_ACTIONS = [*SAGEMAKER_NETWORK_INTERFACE_ACTIONS, *SAGEMAKER_NETWORK_DESCRIBE_ACTIONS]


@dataclass(frozen=True)
class JobNetwork:
    """The subnets and security group that jobs and models must use."""

    subnet_ids: Sequence[str]
    security_group_id: str

    def conditions(self, *, instance_types: Sequence[str] | None = None) -> dict[str, dict[str, object]]:
        """Every subnet and security group of the request is one of these (and every instance type one of
        `instance_types`, when given)."""
        all_values: dict[str, object] = {}
        if instance_types is not None:
            all_values["sagemaker:InstanceTypes"] = list(instance_types)
        all_values["sagemaker:VpcSubnets"] = list(self.subnet_ids)
        all_values["sagemaker:VpcSecurityGroupIds"] = [self.security_group_id]
        return {
            "ForAllValues:StringEquals": all_values,
            # ForAllValues also matches a request without the key: require the request to name subnets.
            "Null": {"sagemaker:VpcSubnets": "false"},
        }


def encrypted_with(key_arn: str, *, output: bool) -> dict[str, dict[str, object]]:
    """Volumes (and, where the action has the key, outputs) encrypted with one key. The condition keys are
    ARN-typed and SageMaker puts the key's ARN in them: the request must name the key by its ARN, not by
    id or alias. (The short `sagemaker:VolumeKmsKey` is deprecated; the service authorization reference
    no longer lists it for these actions, so a condition on it never matches.)"""
    keys = {"sagemaker:VolumeKmsKeyArn": key_arn}
    if output:
        keys["sagemaker:OutputKmsKeyArn"] = key_arn
    return {"ArnEquals": dict(keys)}


def pass_role_to_sagemaker(sid: str, role_arn: str) -> iam.PolicyStatement:
    """`iam:PassRole` on the role jobs, pipeline steps or models run as, to SageMaker only."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["iam:PassRole"],
        resources=[role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
    )
