"""ModelApprovalGuard: a function in the VPC (reserved concurrency, dead-letter queue, encrypted logs) checks
approved packages of the guarded groups against their baselines, rejects misses and notifies an encrypted
topic; its role may read and reject only the guarded groups' packages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.registry.model_approval_guard import ApprovalBaseline, ModelApprovalGuard
from constructs_lib.shared.access_logs_bucket import AccessLogsBucket
from constructs_lib.shared.encrypted_bucket import EncryptedBucket
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import (
    SUBNET_IDS,
    VPC_ID,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synth,
    validation_errors,
)

BASELINES = {
    "fraud-detection": ApprovalBaseline(metric="recall", threshold=0.9, comparison="greater_than_or_equal"),
    "churn-prediction": ApprovalBaseline(metric="auc", threshold=0.8, comparison="greater_than_or_equal"),
}
# A mixed-case name: SageMaker writes it lower-cased in the versions' ARNs.
QUIET_BASELINES = {
    "Demand-Forecast": ApprovalBaseline(metric="rmse", threshold=12.5, comparison="less_than_or_equal"),
}
# What the function reads (functions/approval_guard: BASELINES), by group in sorted order.
BASELINES_JSON = {
    "churn-prediction": {"metric": "auc", "threshold": 0.8, "comparison": "greater_than_or_equal"},
    "fraud-detection": {"metric": "recall", "threshold": 0.9, "comparison": "greater_than_or_equal"},
}
QUIET_BASELINES_JSON = {
    "Demand-Forecast": {"metric": "rmse", "threshold": 12.5, "comparison": "less_than_or_equal"},
}
EMAILS = ("ml-platform@example.com", "model-owners@example.com")
PACKAGES = "arn:aws:sagemaker:eu-west-1:123456789012:model-package"


@dataclass(frozen=True)
class Guards:
    template: Template
    outdir: Path
    nag_errors: list[str]  # empty when the synthesis (with both cdk-nag packs) succeeded
    guard: ModelApprovalGuard  # two groups, e-mails, 90 days of logs, retained logs
    quiet: ModelApprovalGuard  # one group, no e-mail, the defaults
    data_key: str
    logs_key: str
    bucket: str

    def logical(self, guard: str, path: str) -> str:
        """The logical id of a construct under the guard, by its path from there ("Role/DefaultPolicy")."""
        construct = getattr(self, guard)
        for child in path.split("/"):
            construct = construct.node.find_child(child)
        return logical_id(construct)

    def properties(self, guard: str, child: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(guard, child))["Properties"]
        return written

    def function(self, guard: str) -> dict[str, Any]:
        return self.properties(guard, "Default/Function")

    def policy_statements(self, guard: str) -> list[dict[str, Any]]:
        written: list[dict[str, Any]] = self.properties(guard, "Default/Policy")["PolicyDocument"][
            "Statement"
        ]
        return written


@pytest.fixture(scope="module")
def guards(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Guards:
    """One synthesis with both cdk-nag packs: its template for the assertions, its report for compliance."""
    outdir = tmp_path_factory.mktemp("guard")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    retain = cdk.RemovalPolicy.RETAIN
    data_key = PlatformKey(stack, "DataKey", alias="alias/data", description="Data", removal_policy=retain)
    logs_key = PlatformKey(stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=retain)
    logs_key.allow_cloudwatch_logs()
    bucket = EncryptedBucket(
        stack,
        "Artifacts",
        encryption_key=data_key.key,
        access_logs_bucket=AccessLogsBucket(stack, "AccessLogs", removal_policy=retain).bucket,
        access_logs_prefix="artifacts/",
        removal_policy=retain,
    )
    vpc = imported_vpc(stack)
    subnets = imported_subnets(stack)

    def guard(construct_id: str, baselines: dict[str, ApprovalBaseline], **kwargs: Any) -> ModelApprovalGuard:
        return ModelApprovalGuard(
            stack,
            construct_id,
            baselines=baselines,
            metrics_bucket=bucket.bucket,
            encryption_key=data_key.key,
            logs_key=logs_key.key,
            vpc=vpc,
            subnets=subnets,
            **kwargs,
        )

    main = guard("Guard", BASELINES, notification_emails=EMAILS, log_retention_days=90, removal_policy=retain)
    quiet = guard("Quiet", QUIET_BASELINES)
    try:
        synth(stack)
        errors: list[str] = []
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        errors = (validation_errors(outdir) if report.exists() else []) or [f"synthesis failed: {error}"]
    template = Template.from_json(json.loads((outdir / f"{stack.artifact_id}.template.json").read_text()))
    return Guards(
        template,
        outdir,
        errors,
        guard=main,
        quiet=quiet,
        data_key=logical_id(data_key.key),
        logs_key=logical_id(logs_key.key),
        bucket=logical_id(bucket.bucket),
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- the function -------------------------------------------------------------------------------


def test_python_314_function_with_the_handler_module(guards: Guards) -> None:
    function = guards.function("guard")
    assert function["Runtime"] == "python3.14"
    assert function["Handler"] == "functions.approval_guard.handler.handler"
    assert function["Timeout"] == 60
    assert function["MemorySize"] == 256
    assert function["Role"] == {"Fn::GetAtt": [guards.logical("guard", "Default/Role"), "Arn"]}


def test_the_asset_is_the_handler_package_and_the_shared_runtime(guards: Guards) -> None:
    key = guards.function("guard")["Code"]["S3Key"]
    staged = guards.outdir / f"asset.{key.removesuffix('.zip')}"
    files = sorted(path.relative_to(staged).as_posix() for path in staged.rglob("*") if path.is_file())
    assert "functions/approval_guard/handler.py" in files
    assert "functions/_runtime/logs.py" in files
    shipped = {"__init__.py", "_runtime", "approval_guard"}
    assert [file for file in files if file.split("/")[1] not in shipped] == []


@pytest.mark.parametrize(("guard", "baselines"), [("guard", BASELINES_JSON), ("quiet", QUIET_BASELINES_JSON)])
def test_baselines_are_passed_as_json(guards: Guards, guard: str, baselines: dict[str, Any]) -> None:
    variables = guards.function(guard)["Environment"]["Variables"]
    assert set(variables) == {"BASELINES", "TOPIC_ARN"}
    assert json.loads(variables["BASELINES"]) == baselines
    # Sorted by group, so that the template does not change with the order of the configuration.
    assert list(json.loads(variables["BASELINES"])) == list(baselines) == sorted(baselines)


@pytest.mark.parametrize("child", ["LogGroup", "Function", "Role", "DeadLetters"])
def test_the_function_keeps_the_logical_ids_it_had_before_platform_function(
    guards: Guards, child: str
) -> None:
    # Its construct id is "Default", which CDK leaves out of logical ids ("GuardDefault..." otherwise): the
    # log group (stateful) and the rest are not replaced. tests/stacks pins the exact ids in the app.
    assert guards.logical("guard", f"Default/{child}").startswith(f"Guard{child}")


@pytest.mark.parametrize("guard", ["guard", "quiet"])
def test_the_topic_arn_is_passed(guards: Guards, guard: str) -> None:
    variables = guards.function(guard)["Environment"]["Variables"]
    assert variables["TOPIC_ARN"] == {"Ref": guards.logical(guard, "Topic")}


def test_reserved_concurrency_and_a_dead_letter_queue(guards: Guards) -> None:
    function = guards.function("guard")
    assert function["ReservedConcurrentExecutions"] == 2
    assert function["DeadLetterConfig"] == {
        "TargetArn": {"Fn::GetAtt": [guards.logical("guard", "Default/DeadLetters"), "Arn"]}
    }


def test_runs_in_the_given_subnets_with_its_security_group(guards: Guards) -> None:
    assert guards.function("guard")["VpcConfig"] == {
        "SubnetIds": list(SUBNET_IDS),
        "SecurityGroupIds": [{"Fn::GetAtt": [guards.logical("guard", "Default/SecurityGroup"), "GroupId"]}],
    }


def test_the_security_group_only_allows_https_out(guards: Guards) -> None:
    group = guards.properties("guard", "Default/SecurityGroup")
    assert group["VpcId"] == VPC_ID
    assert [
        {key: rule[key] for key in ("IpProtocol", "FromPort", "ToPort", "CidrIp")}
        for rule in group["SecurityGroupEgress"]
    ] == [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": "0.0.0.0/0"}]
    assert "SecurityGroupIngress" not in group
    guards.template.resource_count_is("AWS::EC2::SecurityGroupIngress", 0)
    guards.template.resource_count_is("AWS::EC2::SecurityGroupEgress", 0)


@pytest.mark.parametrize(("guard", "days", "policy"), [("guard", 90, "Retain"), ("quiet", 365, "Delete")])
def test_logs_to_its_own_log_group_encrypted_with_the_logs_key(
    guards: Guards, guard: str, days: int, policy: str
) -> None:
    log_group = guards.logical(guard, "Default/LogGroup")
    assert guards.function(guard)["LoggingConfig"] == {"LogGroup": {"Ref": log_group}}
    written = resource(guards.template, log_group)
    assert written["Properties"] == {
        "KmsKeyId": {"Fn::GetAtt": [guards.logs_key, "Arn"]},
        "RetentionInDays": days,
    }
    assert (written["DeletionPolicy"], written["UpdateReplacePolicy"]) == (policy, policy)


# --- the dead-letter queue ------------------------------------------------------------------------


def test_the_dead_letter_queue_is_kms_encrypted_and_keeps_messages_14_days(guards: Guards) -> None:
    queue_key = guards.logical("guard", "DeadLetterKey")
    assert guards.properties("guard", "Default/DeadLetters") == {
        "KmsMasterKeyId": {"Fn::GetAtt": [queue_key, "Arn"]},
        "MessageRetentionPeriod": 14 * 24 * 3600,
    }


def test_eventbridge_may_use_the_dead_letter_key(guards: Guards) -> None:
    # The rule's failed deliveries land in the queue: EventBridge encrypts them with its key.
    key = guards.properties("guard", "DeadLetterKey")
    assert key["EnableKeyRotation"] is True
    (statement,) = [
        s for s in key["KeyPolicy"]["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}
    ]
    assert sorted(as_list(statement["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]


def test_the_dead_letter_queue_refuses_requests_without_tls(guards: Guards) -> None:
    queue = guards.logical("guard", "Default/DeadLetters")
    (policy,) = guards.template.find_resources(
        "AWS::SQS::QueuePolicy", {"Properties": {"Queues": [{"Ref": queue}]}}
    ).values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statements[0] == {
        "Action": "sqs:*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": {"Fn::GetAtt": [queue, "Arn"]},
    }
    # The only other statement: the rule may send the events it could not deliver.
    (allowed,) = statements[1:]
    assert allowed["Principal"] == {"Service": "events.amazonaws.com"}
    assert allowed["Action"] == "sqs:SendMessage"
    assert allowed["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [guards.logical("guard", "OnApproval"), "Arn"]}}
    }


# --- the role -------------------------------------------------------------------------------------


def test_only_lambda_may_assume_the_role(guards: Guards) -> None:
    role = guards.properties("guard", "Default/Role")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]
    assert "ManagedPolicyArns" not in role
    assert guards.properties("guard", "Default/Policy")["Roles"] == [
        {"Ref": guards.logical("guard", "Default/Role")}
    ]


@pytest.mark.parametrize(
    ("guard", "versions"),
    [
        ("guard", ["churn-prediction", "fraud-detection"]),
        # As named, and as SageMaker writes it in the versions' ARNs.
        ("quiet", ["Demand-Forecast", "demand-forecast"]),
    ],
)
def test_reads_and_rejects_only_packages_of_the_guarded_groups(
    guards: Guards, guard: str, versions: list[str]
) -> None:
    sagemaker_statements = [
        statement
        for statement in guards.policy_statements(guard)
        if any(action.startswith("sagemaker:") for action in as_list(statement["Action"]))
    ]
    assert sagemaker_statements == [
        {
            "Sid": "ReadAndRejectGuardedPackages",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeModelPackage", "sagemaker:UpdateModelPackage"],
            "Resource": [f"{PACKAGES}/{name}/*" for name in versions],
        }
    ]


def test_may_read_the_metrics_bucket_publish_to_its_topic_and_send_to_its_queue(guards: Guards) -> None:
    # Besides the guarded packages (the test above).
    others = [s for s in guards.policy_statements("guard") if s.get("Sid") != "ReadAndRejectGuardedPackages"]
    by_action = {
        action: statement["Resource"] for statement in others for action in as_list(statement["Action"])
    }
    bucket_arn = {"Fn::GetAtt": [guards.bucket, "Arn"]}
    assert by_action["s3:GetObject*"] == [bucket_arn, {"Fn::Join": ["", [bucket_arn, "/*"]]}]
    assert by_action["sns:Publish"] == {"Ref": guards.logical("guard", "Topic")}
    assert by_action["sqs:SendMessage"] == {
        "Fn::GetAtt": [guards.logical("guard", "Default/DeadLetters"), "Arn"]
    }
    kms_keys = [
        statement["Resource"]
        for statement in others
        if "kms:GenerateDataKey*" in as_list(statement["Action"])
    ]
    assert {"Fn::GetAtt": [guards.data_key, "Arn"]} in kms_keys  # the topic's
    assert {"Fn::GetAtt": [guards.logical("guard", "DeadLetterKey"), "Arn"]} in kms_keys  # the queue's
    assert by_action["ec2:CreateNetworkInterface"] == "*"
    # No write to S3, nothing on other topics or queues, nothing of SageMaker beyond the guarded packages.
    assert not [action for action in by_action if action.startswith(("s3:Put", "s3:Delete", "sagemaker:"))]


def test_the_default_policy_holds_only_the_dead_letter_grant(guards: Guards) -> None:
    default_policy = guards.logical("guard", "Default/Role/DefaultPolicy")
    assert guards.properties("guard", "Default/Role/DefaultPolicy")["PolicyDocument"]["Statement"] == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [guards.logical("guard", "Default/DeadLetters"), "Arn"]},
        }
    ]
    assert (
        default_policy in resource(guards.template, guards.logical("guard", "Default/Function"))["DependsOn"]
    )


def test_the_role_may_write_only_to_the_functions_log_group(guards: Guards) -> None:
    # The function has its own role, so CDK adds no AWSLambdaBasicExecutionRole: the grant is the construct's.
    logging = [
        statement
        for child in ("Default/Policy", "Default/Role/DefaultPolicy")
        for statement in guards.properties("guard", child)["PolicyDocument"]["Statement"]
        if any(action.startswith("logs:") for action in as_list(statement["Action"]))
    ]
    assert logging == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [guards.logical("guard", "Default/LogGroup"), "Arn"]},
        }
    ]


def test_the_function_is_created_after_its_managed_policy(guards: Guards) -> None:
    depends_on = resource(guards.template, guards.logical("guard", "Default/Function"))["DependsOn"]
    assert guards.logical("guard", "Default/Policy") in depends_on


# --- the rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("guard", "groups"), [("guard", ["churn-prediction", "fraud-detection"]), ("quiet", ["Demand-Forecast"])]
)
def test_the_rule_matches_only_approvals_of_the_guarded_groups(
    guards: Guards, guard: str, groups: list[str]
) -> None:
    assert guards.properties(guard, "OnApproval")["EventPattern"] == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": groups, "ModelApprovalStatus": ["Approved"]},
    }


def test_the_rule_invokes_the_function_with_retries_and_the_dead_letter_queue(guards: Guards) -> None:
    (target,) = guards.properties("guard", "OnApproval")["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [guards.logical("guard", "Default/Function"), "Arn"]}
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [guards.logical("guard", "Default/DeadLetters"), "Arn"]}
    }
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 4}
    (permission,) = guards.template.find_resources(
        "AWS::Lambda::Permission",
        {
            "Properties": {
                "FunctionName": {"Fn::GetAtt": [guards.logical("guard", "Default/Function"), "Arn"]}
            }
        },
    ).values()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Fn::GetAtt": [guards.logical("guard", "Default/Function"), "Arn"]},
        "Principal": "events.amazonaws.com",
        "SourceArn": {"Fn::GetAtt": [guards.logical("guard", "OnApproval"), "Arn"]},
    }


# --- the topic ------------------------------------------------------------------------------------


def test_the_topic_is_kms_encrypted(guards: Guards) -> None:
    assert guards.properties("guard", "Topic") == {
        "DisplayName": "Model approval guard",
        "KmsMasterKeyId": {"Fn::GetAtt": [guards.data_key, "Arn"]},
    }


def test_the_topic_refuses_publishing_without_tls(guards: Guards) -> None:
    topic = guards.logical("guard", "Topic")
    (policy,) = guards.template.find_resources(
        "AWS::SNS::TopicPolicy", {"Properties": {"Topics": [{"Ref": topic}]}}
    ).values()
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Sid": "AllowPublishThroughSSLOnly",
            "Action": "sns:Publish",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            "Effect": "Deny",
            "Principal": "*",
            "Resource": {"Ref": topic},
        }
    ]


def subscriptions(guards: Guards, guard: str) -> list[dict[str, Any]]:
    topic = guards.logical(guard, "Topic")
    return [
        written["Properties"]
        for written in guards.template.find_resources("AWS::SNS::Subscription").values()
        if written["Properties"]["TopicArn"] == {"Ref": topic}
    ]


def test_the_given_addresses_are_subscribed_by_email(guards: Guards) -> None:
    topic = {"Ref": guards.logical("guard", "Topic")}
    assert sorted(subscriptions(guards, "guard"), key=lambda subscription: subscription["Endpoint"]) == [
        {"Endpoint": email, "Protocol": "email", "TopicArn": topic} for email in EMAILS
    ]


def test_no_subscription_without_addresses(guards: Guards) -> None:
    assert subscriptions(guards, "quiet") == []
    guards.template.resource_count_is("AWS::SNS::Subscription", len(EMAILS))


# --- refusals and compliance ----------------------------------------------------------------------


def guard_in_bare_stack(
    cdk_context: dict[str, Any], baselines: dict[str, ApprovalBaseline], **kwargs: Any
) -> ModelApprovalGuard:
    stack = bare_stack(cdk_context)
    return ModelApprovalGuard(
        stack,
        "Guard",
        baselines=baselines,
        metrics_bucket=s3.Bucket.from_bucket_name(stack, "Artifacts", "dev-ml-artifacts"),
        encryption_key=kms.Key.from_key_arn(
            stack, "DataKey", "arn:aws:kms:eu-west-1:123456789012:key/1a1a1a1a-1a1a-1a1a-1a1a-1a1a1a1a1a1a"
        ),
        logs_key=kms.Key.from_key_arn(
            stack, "LogsKey", "arn:aws:kms:eu-west-1:123456789012:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b"
        ),
        vpc=imported_vpc(stack),
        subnets=imported_subnets(stack),
        **kwargs,
    )


def test_empty_baselines_are_refused(cdk_context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="needs at least one group with a baseline"):
        guard_in_bare_stack(cdk_context, {})


def test_passes_the_compliance_packs_with_its_acknowledgements(guards: Guards) -> None:
    # Built with the platform's own key, bucket and an existing VPC, as PromotionStack builds it.
    assert guards.nag_errors == []
