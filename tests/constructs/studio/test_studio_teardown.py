"""StudioTeardown: a Contents resource deleted before the domain, profiles and spaces it depends on, a
Leftovers resource deleted after the domain, one provider (outside the VPC) polling every 30 s for at most an
hour, and grants to delete only this domain's contents and, in the VPC, what SageMaker tagged for a domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template

from constructs_lib.shared.platform_key import PlatformKey
from constructs_lib.studio.studio_domain import (
    AppDefaults,
    DockerAccess,
    IdleShutdown,
    PortalRestrictions,
    SpaceStorage,
    StudioDomain,
)
from constructs_lib.studio.studio_teardown import StudioTeardown
from tests.constructs.support import (
    ACCOUNT,
    REGION,
    SECURITY_GROUP_ID,
    VPC_ID,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    synthesize,
)

VPC_ARN = f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc/{VPC_ID}"
TAG_CONDITION = "aws:ResourceTag/ManagedByAmazonSageMakerResource"
ANY_DOMAIN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:domain/*"


@dataclass(frozen=True)
class Built:
    template: Template
    nag_errors: list[str]
    construct: StudioTeardown
    domain: str  # logical id
    dependencies: list[str]  # logical ids of the stand-ins for a profile and a space

    def properties(self, path: str) -> dict[str, Any]:
        construct: Any = self.construct
        for part in path.split("/"):
            construct = construct.node.find_child(part)
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        written: dict[str, Any] = resources[logical_id(construct)]["Properties"]
        return written

    def statements(self, policy: str = "Teardown/Policy") -> dict[str, dict[str, Any]]:
        document = self.properties(policy)["PolicyDocument"]
        return {statement["Sid"]: statement for statement in document["Statement"] if "Sid" in statement}

    def resource(self, name: str) -> dict[str, Any]:
        resources: dict[str, Any] = self.template.to_json()["Resources"]
        written: dict[str, Any] = resources[logical_id(self.construct.node.find_child(name))]
        return written


@pytest.fixture(scope="module")
def built(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Built:
    outdir = tmp_path_factory.mktemp("teardown")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    logs_key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.DESTROY
    )
    logs_key.allow_cloudwatch_logs()
    vpc = imported_vpc(stack)
    role = iam.Role(stack, "PersonaRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com"))
    domain = StudioDomain(
        stack,
        "Domain",
        domain_name="research",
        auth_mode="IAM",
        vpc=vpc,
        subnets=imported_subnets(stack),
        security_group=ec2_security_group(stack),
        encryption_key=kms.Key(stack, "StudioKey", enable_key_rotation=True),
        default_execution_role=role,
        shared_space_execution_role=role,
        idle_shutdown=IdleShutdown(default_minutes=60, min_minutes=60, max_minutes=240),
        jupyterlab=AppDefaults(default_instance_type="ml.t3.medium"),
        code_editor=AppDefaults(default_instance_type="ml.t3.medium"),
        portal=PortalRestrictions(),
        space_storage=SpaceStorage(default_gb=5, max_gb=20),
        docker_access=DockerAccess(enabled=False),
        # A home EFS, as domains created before `home_efs` have: the leftovers the teardown deletes.
        home_efs=True,
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    # Stand-ins for a profile and a space: the construct only needs something to depend on.
    stand_ins = [
        sagemaker.CfnUserProfile(stack, "Alice", domain_id=domain.domain_id, user_profile_name="alice"),
        sagemaker.CfnSpace(stack, "TeamSpace", domain_id=domain.domain_id, space_name="team"),
    ]
    construct = StudioTeardown(
        stack,
        "StudioTeardown",
        domain=domain,
        vpc=vpc,
        studio_resources=stand_ins,
        logs_key=logs_key.key,
    )
    synthesized = synthesize(stack, outdir)
    return Built(
        synthesized.template,
        synthesized.nag_errors,
        construct,
        logical_id(domain.resource),
        [stack.get_logical_id(stand_in) for stand_in in stand_ins],
    )


def ec2_security_group(stack: cdk.Stack) -> ec2.ISecurityGroup:
    return ec2.SecurityGroup.from_security_group_id(stack, "StudioGroup", SECURITY_GROUP_ID)


def test_the_contents_resource_records_the_domain_and_gives_up_before_the_hour(built: Built) -> None:
    resource = built.resource("Contents")
    assert resource["Type"] == "Custom::StudioTeardown"
    properties = resource["Properties"]
    assert properties["Phase"] == "Contents"
    assert properties["DomainId"] == {"Fn::GetAtt": [built.domain, "DomainId"]}
    assert properties["DomainArn"] == {"Fn::GetAtt": [built.domain, "DomainArn"]}
    assert properties["GiveUpAfterSeconds"] == "3300"
    # CloudFormation's longest wait for a custom resource; the handler gives up five minutes before.
    assert properties["ServiceTimeout"] == "3600"


def test_the_contents_go_before_the_domain_profiles_spaces_and_their_grants(built: Built) -> None:
    depends_on = set(built.resource("Contents")["DependsOn"])
    contents_policy = logical_id(built.construct.node.find_child("DomainContentsPolicy"))
    assert {built.domain, *built.dependencies, contents_policy} <= depends_on


def test_the_leftovers_go_after_the_domain(built: Built) -> None:
    leftovers = built.resource("Leftovers")
    assert leftovers["Properties"]["Phase"] == "Leftovers"
    assert leftovers["Properties"]["VpcId"] == VPC_ID
    domain: dict[str, Any] = built.template.to_json()["Resources"][built.domain]
    assert logical_id(built.construct.leftovers) in domain["DependsOn"]
    # And does not depend on the domain itself, or CloudFormation would refuse the cycle.
    assert built.domain not in str(leftovers)


def test_the_provider_polls_every_30_seconds_for_an_hour(built: Built) -> None:
    definition = str(built.properties("Provider/waiter-state-machine")["DefinitionString"])
    assert '\\"IntervalSeconds\\":30' in definition or '"IntervalSeconds":30' in definition
    assert '\\"MaxAttempts\\":120' in definition or '"MaxAttempts":120' in definition


def test_the_functions_run_the_two_handlers_outside_the_vpc(built: Built) -> None:
    recorder = built.properties("Recorder/Function")
    teardown = built.properties("Teardown/Function")
    assert recorder["Handler"] == "functions.studio_teardown.handler.on_event"
    assert teardown["Handler"] == "functions.studio_teardown.handler.is_complete"
    assert teardown["Timeout"] == 120
    for function in (recorder, teardown):
        assert "VpcConfig" not in function
    built.template.resource_count_is("AWS::EC2::SecurityGroup", 0)


def test_the_recorder_may_only_write_its_logs(built: Built) -> None:
    document = built.properties("Recorder/Policy")["PolicyDocument"]
    actions = {action for statement in document["Statement"] for action in _as_list(statement["Action"])}
    assert actions == {"logs:CreateLogStream", "logs:PutLogEvents"}


def test_sagemaker_deletes_are_scoped_to_the_domain(built: Built) -> None:
    statements = built.statements("DomainContentsPolicy")
    domain_id = {"Fn::GetAtt": [built.domain, "DomainId"]}
    assert _resources(statements["DeleteDomainApps"]) == [_arn_of("sagemaker", "app", domain_id)]
    assert sorted(map(str, _resources(statements["DeleteDomainSpacesAndProfiles"]))) == sorted(
        str(_arn_of("sagemaker", kind, domain_id)) for kind in ("space", "user-profile")
    )
    everything = str(built.template.find_resources("AWS::IAM::ManagedPolicy"))
    # The permissions boundary denies it; CloudFormation deletes the domain.
    assert "sagemaker:DeleteDomain" not in everything


def test_the_contents_policy_is_the_teardown_roles_and_the_function_does_not_wait_for_it(
    built: Built,
) -> None:
    policy = built.properties("DomainContentsPolicy")
    role = logical_id(built.construct.node.find_child("Teardown").node.find_child("Role"))
    assert policy["Roles"] == [{"Ref": role}]
    function: dict[str, Any] = built.template.to_json()["Resources"][
        logical_id(built.construct.teardown_function)
    ]
    contents_policy = logical_id(built.construct.node.find_child("DomainContentsPolicy"))
    assert contents_policy not in function.get("DependsOn", [])


def test_security_groups_and_file_systems_only_in_the_vpc_and_tagged_by_sagemaker(built: Built) -> None:
    statements = built.statements()
    groups = statements["DeleteSageMakerNfsSecurityGroups"]
    assert _render(groups["Condition"]) == {
        "ArnEquals": {"ec2:Vpc": VPC_ARN},
        "StringLike": {TAG_CONDITION: ANY_DOMAIN},
    }
    file_systems = statements["DeleteSageMakerHomeFileSystems"]
    assert _render(file_systems["Condition"]) == {"StringLike": {TAG_CONDITION: ANY_DOMAIN}}
    assert _render(statements["DeleteMountTargetInterfaces"]["Condition"]) == {
        "ArnEquals": {"ec2:Vpc": VPC_ARN}
    }
    # Only reads are unconditioned on "*".
    unscoped = [
        action
        for statement in statements.values()
        if _resources(statement) == ["*"]
        for action in _as_list(statement["Action"])
    ]
    assert unscoped
    assert all(action.split(":")[1].startswith(("List", "Describe")) for action in unscoped), unscoped


def test_the_handler_reads_only_its_own_stack(built: Built) -> None:
    (resource,) = _resources(built.statements()["ReadOwnStackStatus"])
    assert resource == _arn("cloudformation", "stack/Test/*")


def test_passes_the_compliance_packs(built: Built) -> None:
    assert built.nag_errors == []


def _arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def _arn_of(service: str, resource: str, domain_id: Any) -> Any:
    """How CDK renders `format_arn` around a domain id token, partition resolved."""
    return [f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}/", domain_id, "/*"]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _resources(statement: dict[str, Any]) -> list[Any]:
    """The statement's resources, with `arn:${AWS::Partition}:...` joins rendered for the `aws` partition."""
    return [_render(resource) for resource in _as_list(statement["Resource"])]


def _render(value: Any) -> Any:
    """Partition references resolved to `aws`, and joins of plain strings joined; a join around another
    reference (a domain id) stays a list of its parts, strings merged."""
    if value == {"Ref": "AWS::Partition"}:
        return "aws"
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        merged: list[Any] = []
        for part in (_render(part) for part in parts):
            if isinstance(part, str) and merged and isinstance(merged[-1], str):
                merged[-1] += separator + part if separator else part
            else:
                merged.append(part)
        return merged[0] if len(merged) == 1 else merged
    if isinstance(value, dict):
        return {key: _render(item) for key, item in value.items()}
    return value
