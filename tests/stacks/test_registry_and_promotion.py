"""The registry in dev, the way models leave it, and the roles that receive them in staging and prod."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from platform_config import PlatformConfig, naming
from tests.conftest import SynthesizedApp


def _resources(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return [resource["Properties"] for resource in template.find_resources(resource_type).values()]


def test_registry_groups_are_stateful_and_readable_by_exactly_the_served_roles(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    registry = sample_platform.environments["dev"].model_registry
    assert registry is not None
    stack = synthesized.stages["dev"].registry
    assert stack is not None
    template = Template.from_stack(stack)
    groups = {
        g["ModelPackageGroupName"]: g for g in _resources(template, "AWS::SageMaker::ModelPackageGroup")
    }
    assert sorted(groups) == sorted(group.name for group in registry.groups)
    served = [sample_platform.environments[name] for name in ("staging", "prod")]
    served_roles = sorted(
        naming.role_arn(environment, role_name)
        for environment in served
        for role_name in (
            naming.serving_execution_role_name(environment.name),
            naming.deployment_role_name(environment.name),
            # Deploying an endpoint reads the pinned package: the reader and CloudFormation's CreateModel.
            naming.package_reader_role_name(environment.name),
            naming.cloudformation_execution_role_name(environment),
        )
    )
    for group in registry.groups:
        (statement,) = groups[group.name]["ModelPackageGroupPolicy"]["Statement"]
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": served_roles}}
        assert statement["Resource"][1].endswith(f":model-package/{group.name}/*")
        assert groups[group.name]["ModelPackageGroupDescription"] == group.description
    (share,) = _resources(template, "AWS::RAM::ResourceShare")
    assert share["Principals"] == ["220000000002", "330000000003"]
    shared = [g.name for g in registry.groups if g.share_with_ram]
    assert [json.dumps(arn) for arn in share["ResourceArns"]] == [
        json.dumps(f"arn:aws:sagemaker:eu-west-1:110000000001:model-package-group/{name}") for name in shared
    ]
    for resource in template.find_resources("AWS::SageMaker::ModelPackageGroup").values():
        assert resource["DeletionPolicy"] == "Delete"  # dev is disposable; retained elsewhere


def test_the_approval_guard_watches_only_groups_with_a_baseline(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    registry = sample_platform.environments["dev"].model_registry
    assert registry is not None
    promotion = synthesized.stages["dev"].promotion
    assert promotion is not None and promotion.approval_guard is not None
    template = Template.from_stack(promotion)
    (function,) = _resources(template, "AWS::Lambda::Function")
    baselines = json.loads(function["Environment"]["Variables"]["BASELINES"])
    expected = {g.name: g.baseline.model_dump() for g in registry.groups if g.baseline is not None}
    assert baselines == expected and len(expected) < len(registry.groups)
    rules = _resources(template, "AWS::Events::Rule")
    guarded = [r for r in rules if r["EventPattern"]["detail"].get("ModelApprovalStatus") == ["Approved"]]
    (rule,) = guarded
    assert rule["EventPattern"]["detail"]["ModelPackageGroupName"] == sorted(expected)


def test_package_events_are_forwarded_to_each_served_bus(synthesized: SynthesizedApp) -> None:
    promotion = synthesized.stages["dev"].promotion
    assert promotion is not None
    rules = _resources(Template.from_stack(promotion), "AWS::Events::Rule")
    (forwarding,) = [r for r in rules if "ModelApprovalStatus" not in r["EventPattern"]["detail"]]
    assert sorted(target["Arn"] for target in forwarding["Targets"]) == [
        "arn:aws:events:eu-west-1:220000000002:event-bus/default",
        "arn:aws:events:eu-west-1:330000000003:event-bus/default",
    ]


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_serving_environments_accept_deployments_and_events_from_dev_only(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, environment: str
) -> None:
    stack = synthesized.stages[environment].serving_access
    assert stack is not None
    template = Template.from_stack(stack)
    roles = {r["RoleName"]: r for r in _resources(template, "AWS::IAM::Role")}
    assert sorted(roles) == sorted(
        [naming.deployment_role_name(environment), naming.serving_execution_role_name(environment)]
    )
    trust, *tag_session = roles[naming.deployment_role_name(environment)]["AssumeRolePolicyDocument"][
        "Statement"
    ]
    # With an external id, sts:TagSession is apart (it has no sts:ExternalId key); without, merged.
    for statement in tag_session:
        assert statement["Action"] == "sts:TagSession"
        assert statement["Condition"]["ArnEquals"] == trust["Condition"]["ArnEquals"]
    assert trust["Principal"] == {"AWS": "arn:aws:iam::110000000001:root"}
    assert trust["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": [
            naming.role_arn(sample_platform.environments["dev"], naming.promotion_role_name("dev"))
        ]
    }
    external_id = sample_platform.environments[environment].cross_account.external_id
    assert trust["Condition"].get("StringEquals") == (
        {"sts:ExternalId": external_id} if external_id else None
    )
    (bus_policy,) = _resources(template, "AWS::Events::EventBusPolicy")
    assert bus_policy["Statement"]["Principal"] == {"AWS": "arn:aws:iam::110000000001:root"}
    assert bus_policy["Statement"]["Condition"]["ForAllValues:StringEquals"]["events:source"] == [
        "aws.sagemaker"
    ]


def test_dev_lets_exactly_the_serving_roles_read_model_artifacts(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    template = synthesized.template("dev/Data")
    serving_roles = sorted(
        naming.role_arn(sample_platform.environments[name], naming.serving_execution_role_name(name))
        for name in ("staging", "prod")
    )
    reads = [
        statement
        for policy in _resources(template, "AWS::S3::BucketPolicy")
        for statement in policy["PolicyDocument"]["Statement"]
        if statement.get("Sid") == "OtherAccountRolesRead"
    ]
    (read,) = reads
    assert read["Action"] == "s3:GetObject"
    assert read["Condition"] == {"ArnEquals": {"aws:PrincipalArn": serving_roles}}
    assert json.dumps(read["Resource"]).endswith(f'/{naming.MODEL_ARTIFACT_PREFIX}/*"]]}}')


def test_groups_carry_their_own_tags_and_the_environments(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    registry = sample_platform.environments["dev"].model_registry
    stack = synthesized.stages["dev"].registry
    assert registry is not None and stack is not None
    groups = {
        g["ModelPackageGroupName"]: {t["Key"]: t["Value"] for t in g.get("Tags", [])}
        for g in _resources(Template.from_stack(stack), "AWS::SageMaker::ModelPackageGroup")
    }
    for group in registry.groups:
        assert group.tags.items() <= groups[group.name].items()
        assert groups[group.name]["environment"] == "dev"
    assert any(group.tags for group in registry.groups)
