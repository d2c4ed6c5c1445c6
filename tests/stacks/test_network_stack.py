"""The network: isolated subnets in at least two AZs, the endpoints VPC-only Studio needs, flow logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, get_args

from aws_cdk.assertions import Template

from constructs_lib.network.studio_vpc_endpoints import STUDIO_INTERFACE_ENDPOINTS
from constructs_lib.shared.log_retention import RETENTION_BY_DAYS
from platform_config import PlatformConfig
from platform_config.sections.shared import LogRetentionDays
from tests.conftest import SynthesizedApp, build_platform

REQUIRED_SERVICES = (
    "sagemaker.api",
    "sagemaker.runtime",
    "studio",
    "notebook",
    "sts",
    "logs",
    "monitoring",
    "ecr.api",
    "ecr.dkr",
    "kms",
)


def test_the_configured_log_retentions_are_the_ones_the_constructs_map() -> None:
    # Written twice because of the import direction (constructs never import the configuration): every
    # retention the configuration accepts (flow logs, functions, builds) is one the constructs can set.
    assert sorted(get_args(LogRetentionDays)) == sorted(RETENTION_BY_DAYS)


def _service_names(template: Template) -> list[str]:
    return [
        json.dumps(e["Properties"]["ServiceName"])
        for e in template.find_resources("AWS::EC2::VPCEndpoint").values()
    ]


def test_isolated_subnets_in_the_configured_zones(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    new_vpcs = {
        name: environment.network.new_vpc
        for name, environment in sample_platform.environments.items()
        if environment.network.new_vpc is not None
    }
    assert new_vpcs  # existing VPCs are covered by test_existing_vpc_is_referenced_by_id_without_lookups
    for name, new_vpc in new_vpcs.items():
        template = synthesized.template(f"{name}/Network")
        subnets = template.find_resources("AWS::EC2::Subnet")
        zones = sorted(s["Properties"]["AvailabilityZone"] for s in subnets.values())
        assert zones == sorted(new_vpc.availability_zones)
        assert len(zones) >= 2
        template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": new_vpc.cidr})


def test_endpoints_for_vpc_only_studio(synthesized: SynthesizedApp) -> None:
    template = synthesized.template("dev/Network")
    names = " ".join(_service_names(template))
    for service in REQUIRED_SERVICES:
        assert f".{service}" in names, f"no endpoint for {service}"
    interface = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Interface"}}
    )
    # dev tracks experiments: its MLflow tracking server is reached through one more endpoint.
    assert len(interface) == len(STUDIO_INTERFACE_ENDPOINTS) + 1
    assert "aws.sagemaker.eu-west-1.experiments" in names
    assert all(e["Properties"]["PrivateDnsEnabled"] is True for e in interface.values())
    gateways = template.find_resources(
        "AWS::EC2::VPCEndpoint", {"Properties": {"VpcEndpointType": "Gateway"}}
    )
    assert [json.dumps(g["Properties"]["ServiceName"]).endswith('".s3"]]}') for g in gateways.values()] == [
        True
    ]
    (gateway,) = gateways.values()
    # Every isolated subnet's route table reaches S3 through the gateway.
    assert len(gateway["Properties"]["RouteTableIds"]) == len(template.find_resources("AWS::EC2::Subnet"))


def test_flow_logs_go_to_a_kms_encrypted_log_group(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    template = synthesized.template("prod/Network")
    log_groups = template.find_resources("AWS::Logs::LogGroup")
    assert len(log_groups) == 1
    (log_group,) = log_groups.values()
    assert "LogsKey" in json.dumps(log_group["Properties"]["KmsKeyId"])
    assert (
        log_group["Properties"]["RetentionInDays"]
        == sample_platform.environments["prod"].network.flow_log_retention_days
    )
    assert log_group["DeletionPolicy"] == "Retain"
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )


def test_synth_needs_no_availability_zone_lookup(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    # A lookup without credentials makes the CLI re-run the app and give up silently: none may be missing.
    manifests = sorted(synthesized.outdir.glob("assembly-*/manifest.json"))
    assert len(manifests) == len(sample_platform.environments)
    for path in manifests:
        manifest = json.loads(path.read_text())
        assert not manifest.get("missing"), (
            f"{path.parent.name} needs context lookups: {manifest.get('missing')}"
        )
        assert "availability-zones" not in json.dumps(manifest)


def test_existing_vpc_is_referenced_by_id_without_lookups(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any]
) -> None:
    def use_existing_vpc(data: dict[str, Any]) -> None:
        data["network"] = {
            "existing_vpc": {
                "vpc_id": "vpc-0123456789abcdef0",
                "cidr": "10.99.0.0/16",
                "subnets": [
                    {
                        "subnet_id": "subnet-0aaaaaaaaaaaaaaa1",
                        "availability_zone": "eu-west-1a",
                        "route_table_id": "rtb-0aaaaaaaaaaaaaaa1",
                    },
                    {
                        "subnet_id": "subnet-0bbbbbbbbbbbbbbb2",
                        "availability_zone": "eu-west-1b",
                        "route_table_id": "rtb-0bbbbbbbbbbbbbbb2",
                    },
                ],
            }
        }

    stages = build_platform(config_copy("dev", use_existing_vpc), cdk_context, environments=["dev"])
    network = Template.from_stack(stages["dev"].network)
    assert network.find_resources("AWS::EC2::VPC") == {}
    assert network.find_resources("AWS::EC2::Subnet") == {}
    network.has_resource_properties(
        "AWS::EC2::VPCEndpoint",
        {
            "VpcId": "vpc-0123456789abcdef0",
            "VpcEndpointType": "Gateway",
            "RouteTableIds": ["rtb-0aaaaaaaaaaaaaaa1", "rtb-0bbbbbbbbbbbbbbb2"],
        },
    )
    network.has_resource_properties("AWS::EC2::FlowLog", {"ResourceId": "vpc-0123456789abcdef0"})
    studio = Template.from_stack(stages["dev"].studio["ml-research"])
    studio.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "VpcId": "vpc-0123456789abcdef0",
            "SubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
        },
    )
