"""A disposable environment's Studio stacks carry a teardown: its Contents resource is deleted before the
domain, every user profile and every space, its Leftovers resource after the domain; a retained environment's
carry none."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from aws_cdk.assertions import Template

from platform_config import PlatformConfig
from tests.conftest import CONFIG_DIR, SynthesizedApp, build_platform

TEARDOWN = "Custom::StudioTeardown"


def _dev_domains(platform: PlatformConfig) -> list[str]:
    studio = platform.environments["dev"].studio
    assert studio is not None
    return [domain.name for domain in studio.domains]


def test_the_sample_dev_is_disposable(sample_platform: PlatformConfig) -> None:
    # What the tests below rely on: dev is the disposable environment, and it hosts Studio.
    assert sample_platform.environments["dev"].retain_stateful_resources is False
    assert len(_dev_domains(sample_platform)) >= 2


def _phases(template: Template) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Phase -> (logical id, resource) of the stack's teardown resources."""
    return {
        resource["Properties"]["Phase"]: (logical_id, resource)
        for logical_id, resource in template.find_resources(TEARDOWN).items()
    }


@pytest.mark.parametrize("domain_name", ["ml-research", "platform-ops"])
def test_dev_teardown_goes_before_the_domain_profiles_and_spaces_and_cleans_up_after(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig, domain_name: str
) -> None:
    assert domain_name in _dev_domains(sample_platform)
    template = synthesized.template(f"dev/Studio-{domain_name}")
    phases = _phases(template)
    assert set(phases) == {"Contents", "Leftovers"}
    ((domain_id, domain),) = template.find_resources("AWS::SageMaker::Domain").items()
    profiles = set(template.find_resources("AWS::SageMaker::UserProfile"))
    spaces = set(template.find_resources("AWS::SageMaker::Space"))
    assert profiles, "the sample's domains have users"
    _, contents = phases["Contents"]
    assert {domain_id, *profiles, *spaces} <= set(contents["DependsOn"])
    assert contents["Properties"]["DomainId"] == {"Fn::GetAtt": [domain_id, "DomainId"]}
    leftovers_id, leftovers = phases["Leftovers"]
    assert leftovers_id in domain["DependsOn"]
    # The VPC of the Network stack, whose deletion the leftovers would block.
    assert "Network" in str(leftovers["Properties"]["VpcId"])


def test_every_dev_space_is_covered(synthesized: SynthesizedApp, sample_platform: PlatformConfig) -> None:
    # At least one domain of the sample has spaces, so the dependency on spaces is checked somewhere.
    spaces_checked = 0
    for domain_name in _dev_domains(sample_platform):
        template = synthesized.template(f"dev/Studio-{domain_name}")
        _, contents = _phases(template)["Contents"]
        spaces = set(template.find_resources("AWS::SageMaker::Space"))
        assert spaces <= set(contents["DependsOn"])
        spaces_checked += len(spaces)
    assert spaces_checked > 0


@pytest.fixture(scope="module")
def retained_dev(
    tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]
) -> dict[str, Template]:
    """The sample's dev with retain_stateful_resources true, as staging and prod are: its Studio templates."""
    target = tmp_path_factory.mktemp("retained-teardown") / "config"
    target.mkdir(parents=True)
    for source in CONFIG_DIR.iterdir():
        destination = target / source.name
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            destination.write_bytes(source.read_bytes())
    path: Path = target / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["retain_stateful_resources"] = True
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    stages = build_platform(target, cdk_context, environments=["dev"])
    return {name: Template.from_stack(stack) for name, stack in stages["dev"].studio.items()}


def test_a_retained_environment_gets_no_teardown(retained_dev: dict[str, Template]) -> None:
    assert len(retained_dev) >= 2
    for template in retained_dev.values():
        template.resource_count_is(TEARDOWN, 0)
        # Nor its functions: nothing in a retained Studio stack may delete a domain.
        for function in template.find_resources("AWS::Lambda::Function").values():
            assert "studio teardown" not in str(function["Properties"].get("Description", "")).lower()
            assert "is_complete" not in str(function["Properties"].get("Handler", ""))
        policies = str(template.find_resources("AWS::IAM::ManagedPolicy"))
        assert "sagemaker:DeleteDomain" not in policies
