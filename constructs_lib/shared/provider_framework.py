"""The compliance findings of CDK's custom-resource provider framework, acknowledged in one place."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct, IConstruct

from constructs_lib.shared.compliance import acknowledge, acknowledge_wildcard_resource

_FRAMEWORK_FUNCTIONS = ("framework-onEvent", "framework-isComplete", "framework-onTimeout")

# CloudFormation waits at most 3,600 s for a custom resource (ServiceTimeout's maximum), and CDK's provider
# framework documents one hour as the longest total timeout: waiting longer would only make CloudFormation
# fail the resource without a word. Polls every 30 s: 120 polls, a few List calls each, against deletions
# (apps, pipeline steps) that take minutes.
TOTAL_TIMEOUT = Duration.hours(1)
QUERY_INTERVAL = Duration.seconds(30)


def polling_provider(
    scope: Construct,
    construct_id: str,
    *,
    on_event: lambda_.IFunction,
    is_complete: lambda_.IFunction,
    logs_key: kms.IKey,
) -> cr.Provider:
    """CDK's provider framework with an isComplete waiter (`QUERY_INTERVAL`, `TOTAL_TIMEOUT`), outside the
    VPC (it invokes the functions through the Lambda API, starts its waiter in Step Functions and answers
    CloudFormation through S3), logging to an encrypted group, its findings acknowledged."""
    provider = cr.Provider(
        scope,
        construct_id,
        on_event_handler=on_event,
        is_complete_handler=is_complete,
        query_interval=QUERY_INTERVAL,
        total_timeout=TOTAL_TIMEOUT,
        log_group=logs.LogGroup(
            scope,
            f"{construct_id}Logs",
            encryption_key=logs_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        ),
    )
    acknowledge_provider_framework(provider, [on_event.function_arn, is_complete.function_arn])
    return provider


def acknowledge_provider_framework(provider: cr.Provider, invoked_function_arns: Sequence[str]) -> None:
    """Acknowledge, with reasons, what cdk-nag finds on the framework's own functions, their roles and (with
    an isComplete handler) its Step Functions waiter. `invoked_function_arns` are the platform functions
    the framework invokes (any version of each: `<arn>:*`)."""
    for name in _FRAMEWORK_FUNCTIONS:
        function = provider.node.try_find_child(name)
        if function is None:
            continue
        # CDK makes the function depend on its role's policy, which also names the role: fine, not an error.
        function.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        acknowledge(
            function,
            "NIST.800.53.R5-LambdaConcurrency",
            "CDK's provider framework function runs only during deployments, one call per resource.",
        )
        acknowledge(
            function,
            "NIST.800.53.R5-LambdaDLQ",
            "CDK's provider framework function is invoked by CloudFormation, which receives every failure.",
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "CDK's provider framework chooses its own Node.js runtime; it is updated with aws-cdk-lib.",
        )
        acknowledge(
            function,
            "NIST.800.53.R5-LambdaInsideVPC",
            "CDK's provider framework only invokes the platform's functions and answers CloudFormation; it "
            "reaches no VPC resource, and in the isolated subnets it would need a Lambda endpoint.",
        )
        role = function.node.find_child("ServiceRole")
        acknowledge(
            role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
            "CDK's provider framework role: logging only, for a function that runs during deployments.",
        )
        _acknowledge_invoke_policy(role.node.find_child("DefaultPolicy"), invoked_function_arns)
    waiter = provider.node.try_find_child("waiter-state-machine")
    if waiter is not None:
        # CDK makes the state machine depend on its role's policy, which also names the role: not an error.
        waiter.node.default_child.add_metadata(  # type: ignore[union-attr]
            "cfn-lint", {"config": {"ignore_checks": ["W3005"]}}
        )
        acknowledge(
            waiter,
            "AwsSolutions-SF1",
            "CDK's waiter only loops the isComplete function, which logs to its encrypted log group; the "
            "execution data holds CloudFormation's pre-signed response URL, which no log should keep.",
        )
        acknowledge(
            waiter,
            "AwsSolutions-SF2",
            "CDK's waiter is a retry loop around one function during a deployment; X-Ray adds nothing to "
            "that function's own log.",
        )
        framework = [
            arn
            for name in ("framework-isComplete", "framework-onTimeout")
            if (child := provider.node.try_find_child(name)) is not None
            for arn in (child.function_arn,)  # type: ignore[attr-defined]
        ]
        _acknowledge_invoke_policy(waiter.node.find_child("Role").node.find_child("DefaultPolicy"), framework)


def _acknowledge_invoke_policy(policy: IConstruct, function_arns: Sequence[str]) -> None:
    acknowledge(
        policy,
        "NIST.800.53.R5-IAMNoInlinePolicy",
        "CDK's provider framework writes its one grant (invoke the next function) inline on its own role.",
    )
    for arn in function_arns:
        acknowledge_wildcard_resource(
            policy,
            f"{arn}:*",
            "CDK's provider framework invokes any version of this function, and nothing else.",
        )
