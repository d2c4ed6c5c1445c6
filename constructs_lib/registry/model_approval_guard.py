"""The registry's quality gate: an approval stands only if the package's metrics meet the group's baseline."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from constructs_lib.shared.compliance import acknowledge, acknowledge_wildcard_resource
from constructs_lib.shared.log_retention import RETENTION_BY_DAYS
from constructs_lib.shared.model_event_bus_access import MODEL_PACKAGE_STATE_CHANGE
from constructs_lib.shared.platform_function import function_code, function_handler

# The function's code: ordinary Python, tested on its own (tests/functions), packaged with the shared
# runtime like every platform function.
HANDLER_PACKAGE = "approval_guard"


class ModelApprovalGuard(Construct):
    """When a package of a guarded group is approved, a function (in the VPC, reserved concurrency, a
    dead-letter queue) checks its metrics against the group's baseline and rejects it, with the reason in
    the approval description, when they are missing or short. Every verdict goes to an encrypted SNS topic.

    `baselines` maps group names to `{"metric", "threshold", "comparison"}`. Exposes `function`, `topic`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        baselines: Mapping[str, Mapping[str, object]],
        metrics_bucket: s3.IBucket,
        encryption_key: kms.IKey,
        logs_key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        notification_emails: Sequence[str] = (),
        log_retention_days: int = 365,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not baselines:
            raise ValueError("ModelApprovalGuard needs at least one group with a baseline")
        stack = Stack.of(self)
        self.topic = sns.Topic(
            self, "Topic", display_name="Model approval guard", master_key=encryption_key, enforce_ssl=True
        )
        for email in notification_emails:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
        # Its own key: EventBridge (the rule's dead letters) must be allowed in the key policy, which the
        # platform's data key, in another stack, should not carry.
        queue_key = kms.Key(
            self,
            "DeadLetterKey",
            description="Dead letters of the model approval guard",
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        queue_key.grant(iam.ServicePrincipal("events.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey")
        dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=queue_key,
            enforce_ssl=True,
            retention_period=Duration.days(14),
        )
        acknowledge(
            dead_letters,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the approval guard's failed invocations.",
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="The model approval guard: reads packages and metrics, rejects, notifies",
        )
        policy = iam.ManagedPolicy(self, "Policy", roles=[role])
        # SageMaker writes a group's name lower-cased in its versions' ARNs.
        versions = [
            stack.format_arn(service="sagemaker", resource="model-package", resource_name=f"{name}/*")
            for name in sorted({variant for group in baselines for variant in (group, group.lower())})
        ]
        log_group = logs.LogGroup(
            self,
            "LogGroup",
            encryption_key=logs_key,
            retention=RETENTION_BY_DAYS[log_retention_days],
            removal_policy=removal_policy,
        )
        security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Model approval guard: HTTPS out",
            allow_all_outbound=False,
        )
        security_group.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and, via its gateway, S3"
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler=function_handler(HANDLER_PACKAGE),
            code=function_code(HANDLER_PACKAGE),
            role=role,
            timeout=Duration.seconds(60),
            memory_size=256,
            reserved_concurrent_executions=2,
            dead_letter_queue=dead_letters,
            log_group=log_group,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=list(subnets)),
            security_groups=[security_group],
            environment={
                "BASELINES": json.dumps(
                    {name: dict(baselines[name]) for name in sorted(baselines)}, sort_keys=True
                ),
                "TOPIC_ARN": self.topic.topic_arn,
            },
            description="Rejects approved model packages whose metrics miss their group's baseline",
        )
        # The kind synth_checks/reachability.py looks up in its table of the AWS APIs each compute calls.
        self.function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "platform:compute-kind", "function:approval_guard"
        )
        # Lambda checks the role's network permissions when it creates a VPC function: policy first.
        self.function.node.add_dependency(policy)
        # CDK makes the function depend on its role's policies, which also names the role: fine, not an error.
        self.function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        policy.add_statements(
            iam.PolicyStatement(
                sid="ReadAndRejectGuardedPackages",
                actions=["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
                resources=versions,
            ),
            # Lambda attaches the function to the subnets through its role.
            iam.PolicyStatement(
                sid="VpcNetworkInterfaces",
                actions=[
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=["*"],
            ),
        )
        metrics_bucket.grant_read(policy)
        # With its own role, the function gets no logging grant from CDK.
        log_group.grant_write(policy)
        self.topic.grant_publish(policy)
        dead_letters.grant_send_messages(policy)
        for version in versions:
            acknowledge_wildcard_resource(
                policy,
                version,
                "Package versions are numbered at registration; the grant covers the guarded groups only.",
            )
        acknowledge_wildcard_resource(
            policy,
            "*",
            "Lambda's network-interface calls for VPC functions support no resource-level permissions.",
        )
        acknowledge_wildcard_resource(
            policy,
            metrics_bucket.arn_for_objects("*"),
            "Evaluation reports are wherever the pipelines write them in the artifact bucket; read-only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:GetBucket*]",
            "Action groups of CDK's grant_read, on the artifact bucket only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:GetObject*]",
            "Action groups of CDK's grant_read, on the artifact bucket only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::s3:List*]",
            "Action groups of CDK's grant_read, on the artifact bucket only.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]",
            "Action groups of CDK's grants to publish to the encrypted topic and queue, on one key.",
        )
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Action::kms:ReEncrypt*]",
            "Action groups of CDK's grants on the artifact bucket's key, on one key.",
        )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's Lambda function writes its dead-letter queue and network grants into the role's default "
            "policy; the role belongs to this function only.",
        )
        rule = events.Rule(
            self,
            "OnApproval",
            description="Model package approvals of guarded groups",
            event_pattern=events.EventPattern(
                source=["aws.sagemaker"],
                detail_type=[MODEL_PACKAGE_STATE_CHANGE],
                detail={"ModelPackageGroupName": sorted(baselines), "ModelApprovalStatus": ["Approved"]},
            ),
        )
        rule.add_target(
            targets.LambdaFunction(self.function, dead_letter_queue=dead_letters, retry_attempts=4)
        )
