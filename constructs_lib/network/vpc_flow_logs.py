"""VPC flow logs into a KMS-encrypted CloudWatch log group."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge
from constructs_lib.shared.log_retention import retention


class VpcFlowLogs(Construct):
    """Flow logs of all traffic in a VPC; exposes `log_group`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        encryption_key: kms.IKey,
        retention_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            encryption_key=encryption_key,
            retention=retention(retention_days, field="retention_days"),
            removal_policy=removal_policy,
        )
        flow_log = ec2.FlowLog(
            self,
            "FlowLog",
            resource_type=ec2.FlowLogResourceType.from_vpc(vpc),
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(self.log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )
        acknowledge(
            flow_log,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "The delivery role's only policy is the one CDK writes to let VPC Flow Logs write to this one "
            "log group; it belongs to no person.",
        )
