"""The sample configuration in config/ loads, exercises every feature, and derives stable names."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from platform_config import (
    DomainConfig,
    EnvironmentConfig,
    LifecycleConfigConfig,
    PlatformConfig,
    load_environment,
    load_platform,
)
from platform_config.aws_values import AWS_REGIONS
from platform_config.naming import artifact_bucket_name
from tests.conftest import CONFIG_DIR

# S3 general purpose bucket names: 3-63 lower case letters, digits, dots and hyphens, starting and
# ending with a letter or digit.
S3_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
S3_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
S3_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", "--x-s3", "--table-s3")
# SageMaker's name rule (CloudFormation schema): this pattern and at most 63 characters.
SAGEMAKER_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
LONGEST_ENVIRONMENT_NAME = "abcdefghij-klmnopq-9"


def _domain(platform: PlatformConfig, environment: str, name: str) -> DomainConfig:
    studio = platform.environments[environment].studio
    assert studio is not None
    (domain,) = (domain for domain in studio.domains if domain.name == name)
    return domain


def _environment(name: str, region: str, account_id: str = "012345678901") -> EnvironmentConfig:
    return EnvironmentConfig.model_validate(
        {
            "name": name,
            "account_id": account_id,
            "region": region,
            "network": {
                "new_vpc": {"cidr": "10.0.0.0/16", "availability_zones": [f"{region}a", f"{region}b"]}
            },
        }
    )


def _is_s3_bucket_name(name: str) -> bool:
    return (
        S3_BUCKET_NAME.fullmatch(name) is not None
        and ".." not in name
        and not name.startswith(S3_RESERVED_PREFIXES)
        and not name.endswith(S3_RESERVED_SUFFIXES)
    )


def _is_sagemaker_name(name: str) -> bool:
    return len(name) <= 63 and SAGEMAKER_NAME.fullmatch(name) is not None


def _lifecycle_config(config_dir: Path, name: str = "jupyterlab-defaults") -> LifecycleConfigConfig:
    return LifecycleConfigConfig.model_validate(
        {"name": name, "app_type": "JupyterLab", "script": "setup.sh"},
        context={"config_dir": str(config_dir)},
    )


# --- the sample loads ----------------------------------------------------------------------------


def test_sample_loads_every_environment(sample_platform: PlatformConfig) -> None:
    assert set(sample_platform.environments) == {"dev", "staging", "prod"}
    for name, environment in sample_platform.environments.items():
        assert environment.name == name
    account_ids = [environment.account_id for environment in sample_platform.environments.values()]
    assert len(set(account_ids)) == len(account_ids)
    assert sample_platform.account_of("staging") == "220000000002"


def test_sample_loads_again_equal() -> None:
    assert load_platform(CONFIG_DIR) == load_platform(CONFIG_DIR)


def test_load_environment_reads_one_file() -> None:
    staging = load_environment(CONFIG_DIR / "staging.yaml")
    assert staging.name == "staging"
    assert staging.region == "eu-west-1"
    assert staging.studio is None


def test_select_returns_the_named_environments_in_order(sample_platform: PlatformConfig) -> None:
    selected = sample_platform.select(["prod", "dev"])
    assert [environment.name for environment in selected] == ["prod", "dev"]


def test_dev_hosts_studio_and_serving_environments_do_not(sample_platform: PlatformConfig) -> None:
    dev = sample_platform.environments["dev"]
    assert dev.studio is not None
    assert len(dev.studio.domains) >= 2
    assert sample_platform.environments["staging"].studio is None
    assert sample_platform.environments["prod"].studio is None


def test_trusts_are_symmetric(sample_platform: PlatformConfig) -> None:
    environments = sample_platform.environments
    assert set(environments["dev"].serves_environments) == {"staging", "prod"}
    assert environments["staging"].trusted_environments == ("dev",)
    assert environments["prod"].trusted_environments == ("dev",)
    assert not environments["dev"].retain_stateful_resources
    assert environments["staging"].retain_stateful_resources
    assert environments["prod"].retain_stateful_resources


# --- every feature is exercised --------------------------------------------------------------------


def test_sample_has_several_personas_with_distinct_capabilities(sample_platform: PlatformConfig) -> None:
    studio = sample_platform.environments["dev"].studio
    assert studio is not None
    assert len(studio.personas) >= 3
    capability_sets = {persona.capabilities for persona in studio.personas.values()}
    assert len(capability_sets) == len(studio.personas)
    assert any(not persona.capabilities for persona in studio.personas.values())
    assert any("jobs" in persona.capabilities for persona in studio.personas.values())
    used = {user.persona for domain in studio.domains for user in domain.users}
    assert used == set(studio.personas)


def test_sample_has_private_and_shared_spaces(sample_platform: PlatformConfig) -> None:
    domain = _domain(sample_platform, "dev", "ml-research")
    sharing = {space.sharing for space in domain.spaces}
    assert sharing == {"private", "shared"}
    assert {space.app_type for space in domain.spaces} == {"JupyterLab", "CodeEditor"}
    users = {user.name for user in domain.users}
    assert all(space.owner in users for space in domain.spaces)


def test_sample_has_a_lifecycle_config_per_app_type_read_from_file(sample_platform: PlatformConfig) -> None:
    domain = _domain(sample_platform, "dev", "ml-research")
    by_app_type = {config.app_type: config for config in domain.lifecycle_configs}
    assert set(by_app_type) == {"JupyterLab", "CodeEditor"}
    for config in by_app_type.values():
        script = config.script
        assert script.path.is_file()
        assert script.path.parent == (CONFIG_DIR / "lifecycle").resolve()
        assert script.content == script.path.read_text()
        assert script.content.startswith("#!")
    assert by_app_type["JupyterLab"].script.path.name == "jupyterlab-platform-defaults.sh"
    assert by_app_type["CodeEditor"].script.path.name == "code-editor-platform-defaults.sh"


def test_lifecycle_script_base64_round_trips(sample_platform: PlatformConfig) -> None:
    domain = _domain(sample_platform, "dev", "ml-research")
    for config in domain.lifecycle_configs:
        assert base64.b64decode(config.script.content_base64).decode() == config.script.content


def test_sample_turns_docker_access_on(sample_platform: PlatformConfig) -> None:
    assert _domain(sample_platform, "dev", "ml-research").docker_access is True
    assert _domain(sample_platform, "dev", "platform-ops").docker_access is False


def test_sample_has_an_sso_domain_whose_users_have_sso_user_names(sample_platform: PlatformConfig) -> None:
    sso = _domain(sample_platform, "dev", "platform-ops")
    assert sso.auth_mode == "SSO"
    assert sso.users
    assert all(user.sso_user_name for user in sso.users)
    iam = _domain(sample_platform, "dev", "ml-research")
    assert iam.auth_mode == "IAM"
    assert all(user.sso_user_name is None for user in iam.users)


def test_defaults_apply_where_the_sample_leaves_settings_out(sample_platform: PlatformConfig) -> None:
    ops = _domain(sample_platform, "dev", "platform-ops")
    assert ops.idle_shutdown.default_minutes == 60
    assert ops.idle_shutdown.min_minutes == 60
    assert ops.idle_shutdown.max_minutes == 1440
    assert ops.jupyterlab.default_instance_type == "ml.t3.medium"
    assert ops.lifecycle_configs == ()
    assert ops.spaces == ()
    staging = sample_platform.environments["staging"]
    assert staging.network.new_vpc is not None
    assert staging.network.new_vpc.subnet_cidr_mask == 22
    assert staging.network.flow_log_retention_days == 365
    assert staging.network.availability_zones == ("eu-west-1a", "eu-west-1b")


def test_existing_vpc_variant_loads(sample_platform: PlatformConfig) -> None:
    """The sample only uses new_vpc; an existing VPC is accepted and its zones come from its subnets."""
    prod = sample_platform.environments["prod"].model_dump()
    prod["network"] = {
        "existing_vpc": {
            "vpc_id": "vpc-0123456789abcdef0",
            "cidr": "10.40.0.0/16",
            "subnets": [
                {
                    "subnet_id": "subnet-0aaaaaaa",
                    "availability_zone": "eu-west-1a",
                    "route_table_id": "rtb-0aaaaaaa",
                },
                {
                    "subnet_id": "subnet-0bbbbbbb",
                    "availability_zone": "eu-west-1b",
                    "route_table_id": "rtb-0bbbbbbb",
                },
                {
                    "subnet_id": "subnet-0ccccccc",
                    "availability_zone": "eu-west-1a",
                    "route_table_id": "rtb-0ccccccc",
                },
            ],
        }
    }
    environment = EnvironmentConfig.model_validate(prod)
    assert environment.network.new_vpc is None
    assert environment.network.availability_zones == ("eu-west-1a", "eu-west-1b")


# --- frozen ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ((), "region", "eu-west-2"),
        (("network",), "flow_log_retention_days", 30),
        (("network", "new_vpc"), "cidr", "10.99.0.0/16"),
        (("studio",), "domains", ()),
        (("studio", "domains", 0), "docker_access", False),
        (("studio", "domains", 0, "users", 0), "persona", "analyst"),
        (("studio", "domains", 0, "spaces", 0), "storage_gb", 10),
        (("studio", "domains", 0, "lifecycle_configs", 0), "name", "other"),
        (("studio", "domains", 0, "idle_shutdown"), "default_minutes", 90),
    ],
)
def test_models_are_frozen(
    sample_platform: PlatformConfig, path: tuple[str | int, ...], field: str, value: object
) -> None:
    target: Any = sample_platform.environments["dev"]
    for part in path:
        target = target[part] if isinstance(part, int) else getattr(target, part)
    before = getattr(target, field)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(target, field, value)
    assert getattr(target, field) == before


def test_collections_in_models_are_tuples(sample_platform: PlatformConfig) -> None:
    studio = sample_platform.environments["dev"].studio
    assert studio is not None
    assert isinstance(studio.domains, tuple)
    assert isinstance(studio.domains[0].users, tuple)
    assert isinstance(studio.domains[0].spaces, tuple)
    assert isinstance(sample_platform.environments["dev"].serves_environments, tuple)


def test_platform_config_is_frozen(sample_platform: PlatformConfig) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(sample_platform, "environments", {})  # noqa: B010
    assert set(sample_platform.environments) == {"dev", "staging", "prod"}


# --- naming ----------------------------------------------------------------------------------------


def test_artifact_bucket_name_of_the_sample(sample_platform: PlatformConfig) -> None:
    dev = sample_platform.environments["dev"]
    assert artifact_bucket_name(dev) == "dev-ml-artifacts-110000000001-eu-west-1"
    names = {artifact_bucket_name(environment) for environment in sample_platform.environments.values()}
    assert len(names) == len(sample_platform.environments)


def test_artifact_bucket_name_is_deterministic() -> None:
    first = artifact_bucket_name(_environment("prod", "eu-west-1"))
    second = artifact_bucket_name(_environment("prod", "eu-west-1"))
    assert first == second
    assert artifact_bucket_name(_environment("prod", "eu-west-2")) != first
    assert artifact_bucket_name(_environment("prod", "eu-west-1", account_id="999999999999")) != first


def test_artifact_bucket_name_fits_for_the_longest_names() -> None:
    assert len(LONGEST_ENVIRONMENT_NAME) == 20
    longest_region = max(sorted(AWS_REGIONS), key=len)
    name = artifact_bucket_name(_environment(LONGEST_ENVIRONMENT_NAME, longest_region))
    assert len(name) <= 63, name
    assert _is_s3_bucket_name(name), name
    assert LONGEST_ENVIRONMENT_NAME in name
    assert longest_region in name


def test_artifact_bucket_name_is_valid_in_every_region() -> None:
    for region in sorted(AWS_REGIONS):
        name = artifact_bucket_name(_environment(LONGEST_ENVIRONMENT_NAME, region))
        assert len(name) <= 63, name
        assert _is_s3_bucket_name(name), name


def test_artifact_bucket_name_keeps_leading_zeros_of_the_account() -> None:
    name = artifact_bucket_name(_environment("dev", "eu-west-1", account_id="000123456789"))
    assert "-000123456789-" in name


# --- lifecycle config names ------------------------------------------------------------------------


def test_deployed_name_changes_with_the_script(tmp_path: Path) -> None:
    script = tmp_path / "setup.sh"
    script.write_text("#!/bin/bash\necho one\n")
    first = _lifecycle_config(tmp_path).deployed_name("ml-research")
    assert _lifecycle_config(tmp_path).deployed_name("ml-research") == first
    script.write_text("#!/bin/bash\necho two\n")
    second = _lifecycle_config(tmp_path).deployed_name("ml-research")
    assert second != first
    assert first.startswith("jupyterlab-defaults-")
    assert second.startswith("jupyterlab-defaults-")


def test_deployed_name_depends_on_the_domain(tmp_path: Path) -> None:
    (tmp_path / "setup.sh").write_text("#!/bin/bash\necho one\n")
    config = _lifecycle_config(tmp_path)
    assert config.deployed_name("ml-research") != config.deployed_name("platform-ops")


def test_deployed_name_is_a_sagemaker_name_for_the_longest_config_name(tmp_path: Path) -> None:
    (tmp_path / "setup.sh").write_text("#!/bin/bash\necho one\n")
    longest = "a" * 19 + "-" + "b" * 20
    assert len(longest) == 40
    name = _lifecycle_config(tmp_path, longest).deployed_name("d" * 63)
    assert len(name) <= 63, name
    assert _is_sagemaker_name(name), name


def test_deployed_names_of_the_sample_are_sagemaker_names(sample_platform: PlatformConfig) -> None:
    studio = sample_platform.environments["dev"].studio
    assert studio is not None
    names = [
        config.deployed_name(domain.name) for domain in studio.domains for config in domain.lifecycle_configs
    ]
    assert names
    assert len(set(names)) == len(names)
    for name in names:
        assert _is_sagemaker_name(name), name


def test_lifecycle_config_name_longer_than_40_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "setup.sh").write_text("#!/bin/bash\necho one\n")
    with pytest.raises(ValidationError, match="at most 40 characters"):
        _lifecycle_config(tmp_path, "a" * 41)
