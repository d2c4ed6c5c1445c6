"""Creation order at synth: a literal reference to a resource of the same Stage needs a dependency.

Each case builds a bare app (one or two Stages) with the plugin registered as `build_app` registers it,
synthesizes it, and checks that the synth fails, or passes, as CloudFormation's ordering demands.
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ram as ram
from aws_cdk import aws_sagemaker as sagemaker

from synth_checks.creation_order import StackTemplate, resolve_literal
from synth_checks.creation_order_plugin import RULE_NAME, CreationOrderChecks

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "210987654321"
REGION = "eu-central-1"
GROUP = "fraud-model"


def _app(tmp_path: Path) -> cdk.App:
    # The built-in schema validator is not what these tests are about (and costs seconds).
    app = cdk.App(outdir=str(tmp_path / "cdk.out"), builtin_cloud_formation_validation=False)
    cdk.Validations.of(app).add_plugins(CreationOrderChecks())
    return app


def _stage(app: cdk.App, name: str, account: str = ACCOUNT) -> cdk.Stage:
    return cdk.Stage(app, name, env=cdk.Environment(account=account, region=REGION))


def _group(stack: cdk.Stack) -> sagemaker.CfnModelPackageGroup:
    return sagemaker.CfnModelPackageGroup(stack, "Group", model_package_group_name=GROUP)


def _share(stack: cdk.Stack, arn: str) -> ram.CfnResourceShare:
    return ram.CfnResourceShare(
        stack, "Share", name="models", resource_arns=[arn], principals=[OTHER_ACCOUNT]
    )


def _group_arn(stack: cdk.Stack) -> str:
    """The group's ARN written out as configuration-derived names are (partition and region as tokens
    of the stack, which synthesize to an Fn::Join of pseudo parameters)."""
    return stack.format_arn(
        service="sagemaker", resource="model-package-group", resource_name=GROUP, account=ACCOUNT
    )


def test_a_literal_arn_without_a_dependency_fails_the_synth(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Registry")
    _group(stack)
    _share(stack, _group_arn(stack))
    with pytest.raises(Exception, match=RULE_NAME) as failure:
        app.synth()
    message = str(failure.value)
    assert "env/Registry/Share" in message
    assert "env/Registry/Group" in message
    assert "add_dependency" in message


def test_a_plain_literal_arn_is_resolved_too(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Registry")
    _group(stack)
    _share(stack, f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/{GROUP}")
    with pytest.raises(Exception, match="env/Registry/Share"):
        app.synth()


def test_the_same_reference_with_a_dependency_passes(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Registry")
    group = _group(stack)
    _share(stack, _group_arn(stack)).node.add_dependency(group)
    app.synth()


def test_a_transitive_dependency_is_enough(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Registry")
    group = _group(stack)
    # The share follows the role (it names it by a token), which follows the group.
    role = iam.CfnRole(
        stack,
        "Role",
        assume_role_policy_document={"Version": "2012-10-17", "Statement": []},
    )
    role.node.add_dependency(group)
    share = _share(stack, _group_arn(stack))
    share.add_property_override("Name", role.attr_role_id)
    app.synth()


def test_a_token_reference_is_not_flagged(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Registry")
    group = _group(stack)
    _share(stack, group.attr_model_package_group_arn)
    app.synth()


def test_a_literal_naming_a_resource_of_another_environment_is_not_flagged(tmp_path: Path) -> None:
    app = _app(tmp_path)
    # The same group name in another account: a cross-account reference, literal by design.
    _group(cdk.Stack(_stage(app, "source", account=OTHER_ACCOUNT), "Registry"))
    stack = cdk.Stack(_stage(app, "consumer"), "Serving")
    _share(stack, f"arn:aws:sagemaker:{REGION}:{OTHER_ACCOUNT}:model-package-group/{GROUP}")
    app.synth()


def test_another_stack_of_the_stage_needs_a_stack_dependency(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stage = _stage(app, "env")
    registry = cdk.Stack(stage, "Registry")
    _group(registry)
    sharing = cdk.Stack(stage, "Sharing")
    _share(sharing, _group_arn(sharing))
    with pytest.raises(Exception, match=r"env/Sharing/Share[\s\S]*stack env/Registry"):
        app.synth()

    app = _app(tmp_path / "with-dependency")
    stage = _stage(app, "env")
    registry = cdk.Stack(stage, "Registry")
    _group(registry)
    sharing = cdk.Stack(stage, "Sharing")
    _share(sharing, _group_arn(sharing))
    sharing.add_dependency(registry)
    app.synth()


def test_a_plain_name_counts_under_the_property_that_names_that_kind(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Serving")
    cdk.CfnResource(stack, "Endpoint", type="AWS::SageMaker::Endpoint", properties={"EndpointName": "scorer"})
    # A model that happens to share the endpoint's name does not refer to it.
    cdk.CfnResource(stack, "Model", type="AWS::SageMaker::Model", properties={"ModelName": "scorer"})
    cdk.CfnResource(
        stack,
        "Schedule",
        type="AWS::SageMaker::MonitoringSchedule",
        properties={"MonitoringScheduleName": "scorer-schedule", "EndpointName": "scorer"},
    )
    with pytest.raises(Exception, match="env/Serving/Schedule") as failure:
        app.synth()
    assert "env/Serving/Model " not in str(failure.value)


def test_policy_resources_and_conditions_order_nothing_but_principals_do(tmp_path: Path) -> None:
    app = _app(tmp_path)
    stack = cdk.Stack(_stage(app, "env"), "Data")
    cdk.CfnResource(
        stack,
        "Reader",
        type="AWS::IAM::Role",
        properties={"RoleName": "reader", "AssumeRolePolicyDocument": {"Statement": []}},
    )
    reader_arn = f"arn:aws:iam::{ACCOUNT}:role/reader"
    # IAM accepts an ARN of a resource that does not exist yet in Resource and Condition elements.
    iam.CfnManagedPolicy(
        stack,
        "Policy",
        policy_document={
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": reader_arn},
                {
                    "Effect": "Deny",
                    "Action": "s3:*",
                    "Resource": "*",
                    "Condition": {"ArnNotEquals": {"aws:PrincipalArn": reader_arn}},
                },
            ],
        },
    )
    app.synth()

    # A resource policy's Principal is resolved when the policy is created: the role must exist.
    app = _app(tmp_path / "principal")
    stack = cdk.Stack(_stage(app, "env"), "Data")
    cdk.CfnResource(
        stack,
        "Reader",
        type="AWS::IAM::Role",
        properties={"RoleName": "reader", "AssumeRolePolicyDocument": {"Statement": []}},
    )
    cdk.CfnResource(
        stack,
        "TopicPolicy",
        type="AWS::SNS::TopicPolicy",
        properties={
            "Topics": ["alerts"],
            "PolicyDocument": {
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": reader_arn},
                        "Action": "sns:Publish",
                        "Resource": "*",
                    }
                ]
            },
        },
    )
    with pytest.raises(Exception, match="env/Data/TopicPolicy"):
        app.synth()


def _stack(account: str = ACCOUNT, region: str = REGION) -> StackTemplate:
    return StackTemplate(
        artifact_id="envStack",
        display_name="env/Stack",
        account=account,
        region=region,
        template={},
        template_path=Path("envStack.template.json"),
        dependencies=frozenset(),
        construct_paths={},
    )


def test_literals_resolve_through_join_and_sub_of_pseudo_parameters() -> None:
    stack = _stack()
    joined = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::bucket-", {"Ref": "AWS::AccountId"}]]
    }
    assert resolve_literal(joined, stack) == f"arn:aws:s3:::bucket-{ACCOUNT}"
    assert resolve_literal({"Fn::Sub": "x-${AWS::Region}-${!Literal}"}, stack) == f"x-{REGION}-${{Literal}}"
    assert (
        resolve_literal(
            {"Fn::Sub": "arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:t"},
            _stack(region="cn-north-1"),
        )
        == f"arn:aws-cn:sns:cn-north-1:{ACCOUNT}:t"
    )


def test_references_to_resources_do_not_resolve() -> None:
    stack = _stack()
    assert resolve_literal({"Ref": "Bucket"}, stack) is None
    assert resolve_literal({"Fn::GetAtt": ["Bucket", "Arn"]}, stack) is None
    assert resolve_literal({"Fn::Sub": "${Bucket.Arn}/*"}, stack) is None
    assert resolve_literal({"Fn::Join": ["", ["a", {"Fn::ImportValue": "x"}]]}, stack) is None
