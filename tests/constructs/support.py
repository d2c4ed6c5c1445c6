"""What the construct tests share: a bare stack in an App with cdk.json's feature flags, and readers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_efs as efs
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template
from cdk_nag import AwsSolutionsChecks, NIST80053R5Checks
from constructs import IConstruct

from constructs_lib.studio.studio_file_system import StudioFileSystem

ACCOUNT = "123456789012"
REGION = "eu-west-1"
# The stack's zones (seeded as NetworkStack does); a construct may be given fewer.
STACK_ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
VPC_ID = "vpc-0a1b2c3d4e5f60001"
VPC_CIDR = "10.20.0.0/16"
SUBNET_IDS = ("subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002")
SECURITY_GROUP_ID = "sg-0a1b2c3d4e5f60001"


def bare_stack(cdk_context: Mapping[str, Any], *, outdir: Path | None = None, nag: bool = False) -> cdk.Stack:
    """A `Test` stack in its own App; with `nag`, the App runs the cdk-nag packs that production runs."""
    app = cdk.App(context=dict(cdk_context), outdir=str(outdir) if outdir else None)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), NIST80053R5Checks(app))
    stack = cdk.Stack(app, "Test", env=cdk.Environment(account=ACCOUNT, region=REGION))
    stack.node.set_context(f"availability-zones:account={ACCOUNT}:region={REGION}", list(STACK_ZONES))
    return stack


def synth(stack: cdk.Stack) -> None:
    """Synthesize the stack's App: raises when a validation plugin (cdk-nag) reports an error."""
    app = stack.node.root
    assert isinstance(app, cdk.App)
    app.synth()


def validation_errors(outdir: Path) -> list[str]:
    """Rule ids of the errors in the validation report a failed synth wrote to `outdir`."""
    report = json.loads((outdir / "validation-report.json").read_text())
    return [
        violation["ruleName"]
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        if violation["severity"] == "error"
    ]


def logical_id(construct: IConstruct) -> str:
    """The logical id of a construct's CloudFormation resource (its default child, or itself)."""
    element = construct.node.default_child or construct
    assert isinstance(element, cdk.CfnElement)
    return cdk.Stack.of(element).get_logical_id(element)


def resource(template: Template, logical: str) -> dict[str, Any]:
    """One resource of the template, as written (Type, Properties, DeletionPolicy, DependsOn...)."""
    resources: dict[str, Any] = template.to_json()["Resources"]
    return dict(resources[logical])


@dataclass(frozen=True)
class SecurityGroupTemplate:
    """A template and the logical id of its security group, with the rules CDK writes apart from the group
    (those that name a group: ingress from and egress to the group itself)."""

    template: Template
    group: str

    @property
    def group_id(self) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.group, "GroupId"]}

    @property
    def inline_egress(self) -> list[dict[str, Any]]:
        egress: list[dict[str, Any]] = resource(self.template, self.group)["Properties"][
            "SecurityGroupEgress"
        ]
        return egress

    def standalone_rules(self, direction: str) -> list[dict[str, Any]]:
        """The properties of every AWS::EC2::SecurityGroup<direction> resource (Ingress or Egress)."""
        return [
            rule["Properties"]
            for rule in self.template.find_resources(f"AWS::EC2::SecurityGroup{direction}").values()
        ]

    def assert_ingress_only_from_itself(self, description: str) -> None:
        """No inline ingress, no CIDR: the one ingress rule is all traffic from the group itself."""
        assert "SecurityGroupIngress" not in resource(self.template, self.group)["Properties"]
        assert self.standalone_rules("Ingress") == [
            {
                "GroupId": self.group_id,
                "SourceSecurityGroupId": self.group_id,
                "IpProtocol": "-1",
                "Description": description,
            }
        ]


def imported_vpc(stack: cdk.Stack) -> ec2.IVpc:
    """An existing VPC: no resources of its own in the template, so only the construct under test is."""
    return ec2.Vpc.from_vpc_attributes(
        stack, "ExistingVpc", vpc_id=VPC_ID, vpc_cidr_block=VPC_CIDR, availability_zones=list(STACK_ZONES[:2])
    )


def imported_subnets(stack: cdk.Stack) -> list[ec2.ISubnet]:
    return [
        ec2.Subnet.from_subnet_attributes(
            stack,
            f"ExistingSubnet{index}",
            subnet_id=subnet_id,
            availability_zone=STACK_ZONES[index],
            route_table_id=f"rtb-0a1b2c3d4e5f6000{index}",
        )
        for index, subnet_id in enumerate(SUBNET_IDS)
    ]


def team_file_system(stack: cdk.Stack, name: str = "churn-team") -> efs.FileSystem:
    """A StudioFileSystem in the imported VPC's subnets (two mount targets), for constructs that mount it."""
    return StudioFileSystem(
        stack,
        f"FileSystem-{name}",
        vpc=ec2.Vpc.from_vpc_attributes(
            stack, f"Vpc-{name}", vpc_id=VPC_ID, availability_zones=list(STACK_ZONES[:2])
        ),
        subnets=[
            ec2.Subnet.from_subnet_id(stack, f"Subnet-{name}-{index}", subnet_id)
            for index, subnet_id in enumerate(SUBNET_IDS)
        ],
        studio_security_group=ec2.SecurityGroup.from_security_group_id(
            stack, f"StudioGroup-{name}", SECURITY_GROUP_ID
        ),
        encryption_key=kms.Key.from_key_arn(
            stack,
            f"StudioKey-{name}",
            f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
        ),
        description=f"team file system {name}",
        automatic_backups=True,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    ).file_system


def mount_targets_of(template: Template, file_system: str) -> list[str]:
    """Logical ids of the file system's mount targets, sorted."""
    return sorted(
        logical
        for logical, target in template.find_resources("AWS::EFS::MountTarget").items()
        if target["Properties"]["FileSystemId"] == {"Ref": file_system}
    )


def assert_denies_requests_without_tls(template: Template, bucket: str) -> None:
    """The bucket's policy denies plain HTTP and TLS older than 1.2 to everyone."""
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "Bucket": {"Ref": bucket},
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Principal": {"AWS": "*"},
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {"Effect": "Deny", "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}}}
                        ),
                    ]
                )
            },
        },
    )


@dataclass(frozen=True)
class Synthesized:
    """A stack synthesized with the cdk-nag packs: its template as written, and the errors they reported."""

    template: Template
    outdir: Path
    nag_errors: list[str]  # empty when the synthesis succeeded


def synthesize(stack: cdk.Stack, outdir: Path) -> Synthesized:
    """Synthesize a `bare_stack(..., outdir=outdir, nag=True)` once: its template and its findings."""
    try:
        synth(stack)
        errors: list[str] = []
    except RuntimeError as error:
        report = outdir / "validation-report.json"
        errors = (validation_errors(outdir) if report.exists() else []) or [f"synthesis failed: {error}"]
    written = json.loads((outdir / f"{stack.artifact_id}.template.json").read_text())
    return Synthesized(Template.from_json(written), outdir, errors)
