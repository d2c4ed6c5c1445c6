"""Every kind of bad configuration is reported as a problem naming the file, the field path and the fix.

Each test edits a copy of the sample (`config_copy`) and checks what `load_platform` reports. A problem
reads `<file>: <field path>: <message>`; where one mistake must be reported once, the count is checked.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from platform_config import ConfigError, PersonaConfig, PlatformConfig, load_platform
from tests.config.conftest import (
    Change,
    EditConfig,
    append,
    check_problem,
    combine,
    copy_item,
    count_matching,
    delete,
    file_of,
    only_problem,
    problems_of,
    replace_text,
    set_value,
)

DOMAIN = ("studio", "domains", 0)
SSO_DOMAIN = ("studio", "domains", 1)
PERSONAS = ("studio", "personas")
TOP_LEVEL_KEYS = (
    "account_id, alarms, cross_account, experiments, iam, images, kubernetes, model_registry, network, "
    "notebook_jobs, "
    "pipelines, region, retain_stateful_resources, serves_environments, serving, studio, tags, "
    "trusted_environments"
)


def _write_script(config_dir: Path, content: str) -> None:
    """Point dev's first lifecycle config at lifecycle/test.sh with this content."""
    (config_dir / "lifecycle" / "test.sh").write_text(content)
    replace_text(config_dir, "dev.yaml", "lifecycle/jupyterlab-platform-defaults.sh", "lifecycle/test.sh")


# --- account ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"11111111111"', "'11111111111' is not an AWS account id; use exactly 12 digits, quoted"),
        ('"4444444444444"', "'4444444444444' is not an AWS account id; use exactly 12 digits, quoted"),
        ('"11111111111a"', "'11111111111a' is not an AWS account id; use exactly 12 digits, quoted"),
        ('"1111-1111-1111"', "'1111-1111-1111' is not an AWS account id"),
        ('""', "'' is not an AWS account id"),
        ("110000000001", "an account id must be a quoted string of 12 digits"),
        # YAML 1.1 reads a leading zero as an octal integer: the quoting advice is the fix.
        ("012345670123", "drops leading zeros"),
    ],
    ids=["11-digits", "13-digits", "letters", "dashes", "empty", "unquoted", "unquoted-leading-zero"],
)
def test_malformed_account_id(config_copy: EditConfig, value: str, message: str) -> None:
    config_dir = config_copy()
    replace_text(config_dir, "dev.yaml", 'account_id: "110000000001"', f"account_id: {value}")
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", "account_id", message)


def test_unquoted_account_id_message_explains_quoting(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    replace_text(config_dir, "prod.yaml", 'account_id: "330000000003"', "account_id: 330000000003")
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "account_id",
        "quoted string of 12 digits",
        "YAML reads an unquoted number as an integer",
    )


def test_duplicate_account_id_across_two_files_is_reported_once(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("account_id", value="110000000001"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "account_id",
        "110000000001 is also the account of dev (",
        "dev.yaml); give each environment its own account",
    )


def test_account_id_shared_by_three_files_is_reported_on_each_later_file(config_copy: EditConfig) -> None:
    config_copy("prod", set_value("account_id", value="110000000001"))
    config_dir = config_copy("staging", set_value("account_id", value="110000000001"))
    problems = problems_of(config_dir)
    assert len(problems) == 2, problems
    for problem, file in zip(problems, ("prod.yaml", "staging.yaml"), strict=True):
        check_problem(problem, config_dir, file, "account_id", "110000000001 is also the account of dev")


# --- region and zones ------------------------------------------------------------------------------


@pytest.mark.parametrize("region", ["eu-west-9", "EU-WEST-1", "europe", "us-gov-west-1", "cn-north-1"])
def test_unknown_region(config_copy: EditConfig, region: str) -> None:
    config_dir = config_copy("staging", set_value("region", value=region))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "region",
        f"unknown region '{region}'",
        "; use one of ",
        "eu-west-1",
    )


@pytest.mark.parametrize("zone", ["us-east-1b", "eu-west-11", "eu-west-1", "eu-west-1-a", "eu-west-2a"])
def test_availability_zone_not_in_region(config_copy: EditConfig, zone: str) -> None:
    config_dir = config_copy("staging", set_value("network", "new_vpc", "availability_zones", 1, value=zone))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "network.new_vpc.availability_zones[1]",
        f"availability zone '{zone}' is not in region eu-west-1",
    )


def test_duplicate_availability_zone(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "staging", set_value("network", "new_vpc", "availability_zones", value=["eu-west-1a", "eu-west-1a"])
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "network.new_vpc.availability_zones",
        "duplicate availability zones: eu-west-1a",
    )


# --- SageMaker names -------------------------------------------------------------------------------

BAD_SAGEMAKER_NAMES = {
    "underscore": "ml_research",
    "leading-hyphen": "-research",
    "trailing-hyphen": "research-",
    "64-chars": "a" * 64,
    "dot": "ml.research",
    "space": "ml research",
    "empty": "",
}


@pytest.mark.parametrize(
    ("location", "field_path"),
    [
        ((*DOMAIN, "name"), "studio.domains[0].name"),
        ((*DOMAIN, "users", 2, "name"), "studio.domains[0].users[2].name"),
        ((*DOMAIN, "spaces", 2, "name"), "studio.domains[0].spaces[2].name"),
        ((*SSO_DOMAIN, "name"), "studio.domains[1].name"),
    ],
    ids=["domain", "user-profile", "space", "second-domain"],
)
@pytest.mark.parametrize("bad_name", BAD_SAGEMAKER_NAMES.values(), ids=BAD_SAGEMAKER_NAMES.keys())
def test_bad_sagemaker_name(
    config_copy: EditConfig, location: tuple[str | int, ...], field_path: str, bad_name: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value=bad_name))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        field_path,
        f"'{bad_name}' is not a valid SageMaker name",
        "1-63 letters, digits and hyphens",
    )


def test_63_character_name_is_accepted(config_copy: EditConfig) -> None:
    name = "a" * 30 + "-" + "b" * 32
    # The sample's notebook job is listed in that domain's Studio view: it follows the rename.
    rename = combine(
        set_value(*DOMAIN, "name", value=name),
        set_value("notebook_jobs", 0, "studio_view", "domain", value=name),
    )
    config_dir = config_copy("dev", rename)
    studio = load_platform(config_dir).environments["dev"].studio
    assert studio is not None
    assert len(studio.domains[0].name) == 63


# --- duplicates and references inside a domain -----------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field_path", "message"),
    [
        (
            append(*DOMAIN, "users", value={"name": "alice", "persona": "analyst"}),
            "studio.domains[0].users",
            "duplicate user names: alice; list each once",
        ),
        (copy_item(*DOMAIN, "spaces", 0), "studio.domains[0].spaces", "duplicate space names: alice-lab"),
        (
            set_value(*DOMAIN, "lifecycle_configs", 1, "name", value="jupyterlab-defaults"),
            "studio.domains[0].lifecycle_configs",
            "duplicate lifecycle config names: jupyterlab-defaults",
        ),
        (
            set_value(*SSO_DOMAIN, "name", value="ml-research"),
            "studio.domains",
            "duplicate domain names: ml-research; list each once",
        ),
    ],
    ids=["users", "spaces", "lifecycle-configs", "domains"],
)
def test_duplicate_names(config_copy: EditConfig, change: Change, field_path: str, message: str) -> None:
    config_dir = config_copy("dev", change)
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, message)


@pytest.mark.parametrize(
    ("space", "name"), [(0, "alice-lab"), (2, "churn-model-team")], ids=["private", "shared"]
)
def test_space_owned_by_unknown_user(config_copy: EditConfig, space: int, name: str) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "spaces", space, "owner", value="zed"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        f"studio.domains[0].spaces[{space}].owner",
        "'zed' is not a user of this domain",
        "(alice, bob, carol)",
    )


def test_space_owner_of_another_domain_is_unknown(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "spaces", 0, "owner", value="platform-admin"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].spaces[0].owner",
        "'platform-admin' is not a user of this domain",
    )


# --- idle shutdown ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("default_minutes", 59, "59 is below the minimum 60; use 60 or more"),
        ("default_minutes", 0, "0 is below the minimum 60; use 60 or more"),
        ("default_minutes", 525601, "525601 is above the maximum 525600; use 525600 or less"),
        ("min_minutes", 30, "30 is below the minimum 60; use 60 or more"),
        ("max_minutes", 525601, "525601 is above the maximum 525600; use 525600 or less"),
        ("default_minutes", "120", "'120' is not a whole number; write a whole number, without quotes"),
    ],
    ids=["default-59", "default-0", "default-above-a-year", "min-30", "max-above-a-year", "string"],
)
def test_idle_timeout_out_of_range(config_copy: EditConfig, field: str, value: object, message: str) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "idle_shutdown", field, value=value))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", f"studio.domains[0].idle_shutdown.{field}", message
    )


@pytest.mark.parametrize(
    ("settings", "order"),
    [
        ({"min_minutes": 130}, "130 <= 120 <= 720"),
        ({"default_minutes": 721}, "60 <= 721 <= 720"),
        ({"min_minutes": 800, "default_minutes": 800}, "800 <= 800 <= 720"),
    ],
    ids=["min-above-default", "default-above-max", "min-above-max"],
)
def test_idle_timeout_out_of_order(config_copy: EditConfig, settings: dict[str, int], order: str) -> None:
    config_dir = config_copy(
        "dev", combine(*(set_value(*DOMAIN, "idle_shutdown", key, value=v) for key, v in settings.items()))
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].idle_shutdown",
        f"need min_minutes <= default_minutes <= max_minutes, got {order}",
    )


# --- trusts between environments -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "field", "values", "index"),
    [
        ("staging", "trusted_environments", ["dev", "qa"], 1),
        ("prod", "trusted_environments", ["qa", "dev"], 0),
        ("dev", "serves_environments", ["staging", "prod", "qa"], 2),
    ],
    ids=["staging-trusts-qa", "prod-trusts-qa", "dev-serves-qa"],
)
def test_unconfigured_environment_is_reported_once(
    config_copy: EditConfig, environment: str, field: str, values: list[str], index: int
) -> None:
    config_dir = config_copy(environment, set_value(field, value=values))
    check_problem(
        only_problem(config_dir),
        config_dir,
        f"{environment}.yaml",
        f"{field}[{index}]",
        "'qa' is not a configured environment (no qa.yaml beside this file)",
        "; use one of dev, prod, staging",
    )


def test_trust_without_serve_is_reported_on_the_trusting_side(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value("serves_environments", value=["staging"]))
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "prod.yaml").resolve(), problem
    check_problem(
        problem,
        config_dir,
        "prod.yaml",
        "trusted_environments[0]",
        "'dev' does not serve 'prod' (",
        "dev.yaml lacks it in serves_environments); add it there or remove it here",
    )


def test_serve_without_trust_is_reported_on_the_serving_side(config_copy: EditConfig) -> None:
    config_copy("staging", delete("serving"))  # its endpoints would also name dev as their source
    config_dir = config_copy("staging", delete("trusted_environments"))
    problem = only_problem(config_dir)
    check_problem(
        problem,
        config_dir,
        "dev.yaml",
        "serves_environments[0]",
        "'staging' does not trust 'dev' (",
        "staging.yaml lacks it in trusted_environments); add it there or remove it here",
    )


def test_mutual_trust_without_serve_reports_each_side(config_copy: EditConfig) -> None:
    """prod trusts staging and staging trusts prod, but neither serves the other: two problems."""
    config_copy("prod", set_value("trusted_environments", value=["dev", "staging"]))
    config_dir = config_copy("staging", set_value("trusted_environments", value=["dev", "prod"]))
    problems = problems_of(config_dir)
    assert len(problems) == 2, problems
    assert (
        count_matching(problems, "prod.yaml: trusted_environments[1]: 'staging' does not serve 'prod'") == 1
    )
    assert (
        count_matching(problems, "staging.yaml: trusted_environments[1]: 'prod' does not serve 'staging'")
        == 1
    )


@pytest.mark.parametrize("field", ["trusted_environments", "serves_environments"])
def test_environment_cannot_list_itself(config_copy: EditConfig, field: str) -> None:
    config_dir = config_copy("staging", set_value(field, value=["staging"]))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        f"{field}[0]",
        "an environment cannot list itself; remove it",
    )


def test_environment_listed_twice(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("trusted_environments", value=["dev", "dev"]))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "trusted_environments",
        "duplicate environments: dev",
    )


@pytest.mark.parametrize("name", ["QA", "q_a", "1qa", "a" * 21])
def test_trusted_environment_with_invalid_name(config_copy: EditConfig, name: str) -> None:
    config_dir = config_copy("prod", set_value("trusted_environments", value=["dev", name]))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "trusted_environments[1]",
        f"'{name}' does not match",
    )


def test_select_of_an_unconfigured_environment_is_an_error(sample_platform: PlatformConfig) -> None:
    with pytest.raises(ConfigError) as raised:
        sample_platform.select(["qa"])
    assert raised.value.problems == (
        "environment 'qa' has no configuration file config/qa.yaml; configured: dev, prod, staging",
    )


def test_select_reports_every_missing_environment(sample_platform: PlatformConfig) -> None:
    with pytest.raises(ConfigError) as raised:
        sample_platform.select(["dev", "qa", "uat"])
    problems = raised.value.problems
    assert len(problems) == 2, problems
    assert "config/qa.yaml" in problems[0]
    assert "config/uat.yaml" in problems[1]


# --- unknown and missing keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "location", "field_path", "allowed"),
    [
        ("prod", ("colour",), "colour", TOP_LEVEL_KEYS),
        ("prod", ("network", "vpc"), "network.vpc", "existing_vpc, flow_log_retention_days, new_vpc"),
        (
            "prod",
            ("network", "new_vpc", "subnets"),
            "network.new_vpc.subnets",
            "availability_zones, cidr, subnet_cidr_mask",
        ),
        ("dev", ("studio", "domain"), "studio.domain", "domains, personas"),
        (
            "dev",
            (*PERSONAS, "analyst", "instance_types"),
            "studio.personas.analyst.instance_types",
            "app_instance_types, capabilities, description, job_instance_types, network_isolation",
        ),
        (
            "dev",
            (*DOMAIN, "users", 1, "role"),
            "studio.domains[0].users[1].role",
            "name, persona, sso_user_name",
        ),
        (
            "dev",
            (*DOMAIN, "spaces", 2, "shared"),
            "studio.domains[0].spaces[2].shared",
            "app_type, display_name, instance_type, name, owner, sharing, storage_gb",
        ),
        (
            "dev",
            (*DOMAIN, "lifecycle_configs", 0, "default"),
            "studio.domains[0].lifecycle_configs[0].default",
            "app_type, name, run_by_default, script",
        ),
        (
            "dev",
            (*DOMAIN, "idle_shutdown", "max"),
            "studio.domains[0].idle_shutdown.max",
            "default_minutes, max_minutes, min_minutes",
        ),
    ],
    ids=["top-level", "network", "new-vpc", "studio", "persona", "user", "space", "lifecycle-config", "idle"],
)
def test_unknown_key_lists_allowed_keys(
    config_copy: EditConfig, environment: str, location: tuple[str | int, ...], field_path: str, allowed: str
) -> None:
    config_dir = config_copy(environment, set_value(*location, value="x"))
    problem = only_problem(config_dir)
    check_problem(problem, config_dir, f"{environment}.yaml", field_path, "unknown key; allowed keys here: ")
    assert problem.endswith(f"allowed keys here: {allowed}"), problem


def test_unknown_top_level_key_does_not_offer_name(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("colour", value="blue"))
    allowed = only_problem(config_dir).rpartition("allowed keys here: ")[2].split(", ")
    assert "name" not in allowed
    assert "account_id" in allowed


def test_name_key_in_the_file(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("name", value="prod"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "name",
        "is not a setting, the environment is named after its file ('prod'); remove it",
    )


@pytest.mark.parametrize(
    ("location", "field_path"),
    [
        (("network",), "network"),
        (("account_id",), "account_id"),
        (("region",), "region"),
        (("network", "new_vpc", "cidr"), "network.new_vpc.cidr"),
    ],
    ids=["network", "account-id", "region", "cidr"],
)
def test_required_key_missing(config_copy: EditConfig, location: tuple[str, ...], field_path: str) -> None:
    config_dir = config_copy("prod", delete(*location))
    check_problem(only_problem(config_dir), config_dir, "prod.yaml", field_path, "required but missing")


@pytest.mark.parametrize(
    ("location", "field_path"),
    [
        ((*DOMAIN, "default_persona"), "studio.domains[0].default_persona"),
        ((*DOMAIN, "idle_shutdown"), "studio.domains[0].idle_shutdown"),
        ((*DOMAIN, "users", 0, "persona"), "studio.domains[0].users[0].persona"),
        ((*DOMAIN, "spaces", 0, "owner"), "studio.domains[0].spaces[0].owner"),
        ((*PERSONAS, "analyst", "description"), "studio.personas.analyst.description"),
    ],
    ids=["default-persona", "idle-shutdown", "user-persona", "space-owner", "persona-description"],
)
def test_required_studio_key_missing(
    config_copy: EditConfig, location: tuple[str | int, ...], field_path: str
) -> None:
    config_dir = config_copy("dev", delete(*location))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, "required but missing")


# --- YAML and files --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        ("prod.yaml", "region: eu-west-1\n", "region: eu-west-1\nregion: eu-west-2\n", "region"),
        (
            "dev.yaml",
            "  cost-center: ml-platform\n",
            "  cost-center: ml-platform\n  cost-center: x\n",
            "cost-center",
        ),
        (
            "dev.yaml",
            "    data-scientist:\n",
            "    analyst: {description: x}\n    data-scientist:\n",
            "analyst",
        ),
    ],
    ids=["top-level", "nested", "persona"],
)
def test_duplicate_yaml_key(config_copy: EditConfig, file: str, old: str, new: str, key: str) -> None:
    config_dir = config_copy()
    replace_text(config_dir, file, old, new)
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / file).resolve(), problem
    assert re.search(rf": line \d+, column \d+: duplicate key '{key}'; keep one of the two$", problem), (
        problem
    )


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n", "~\n"], ids=repr)
def test_empty_file(config_copy: EditConfig, text: str) -> None:
    config_dir = config_copy()
    (config_dir / "staging.yaml").write_text(text)
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "staging.yaml").resolve(), problem
    assert problem.endswith(": the file is empty; copy another environment's file as a start"), problem


@pytest.mark.parametrize(
    "text",
    [
        "account_id: [\n",
        "region: eu-west-1\n  bad indent: x\n",
        "a: 'unterminated\n",
        "key: @at\n",
        "\t- tab\n",
    ],
    ids=["unclosed-flow", "indentation", "unterminated-quote", "reserved-character", "tab"],
)
def test_yaml_syntax_error(config_copy: EditConfig, text: str) -> None:
    config_dir = config_copy()
    (config_dir / "staging.yaml").write_text(text)
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "staging.yaml").resolve(), problem
    assert re.search(
        r"\.yaml: line \d+, column \d+: not valid YAML \(.+\); check the indentation", problem
    ), problem
    assert "\n" not in problem


@pytest.mark.parametrize(("text", "kind"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")])
def test_top_level_not_a_mapping(config_copy: EditConfig, text: str, kind: str) -> None:
    config_dir = config_copy()
    (config_dir / "staging.yaml").write_text(text)
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "staging.yaml").resolve(), problem
    assert problem.endswith(
        f": the top level is {kind}, not a mapping of settings; write 'key: value' settings at the top level"
    ), problem


def test_yaml_python_tag_is_rejected(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    replace_text(config_dir, "staging.yaml", "region: eu-west-1", "region: !!python/name:os.system")
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "staging.yaml").resolve(), problem
    assert "not valid YAML" in problem


@pytest.mark.parametrize("stem", ["Dev_1", "DEV", "1dev", "dev.eu", "dev_1", "-dev", "a" * 21])
def test_invalid_environment_file_name(config_copy: EditConfig, stem: str) -> None:
    config_dir = config_copy()
    shutil.copy(config_dir / "staging.yaml", config_dir / f"{stem}.yaml")
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / f"{stem}.yaml").resolve(), problem
    assert f": '{stem}' is not an environment name (the file name is one)" in problem, problem
    assert problem.endswith("; rename the file"), problem


def test_20_character_environment_file_name_is_accepted(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    name = "a" * 20
    (config_dir / f"{name}.yaml").write_text(
        'account_id: "444444444444"\nregion: eu-west-1\n'
        "network: {new_vpc: {cidr: 10.40.0.0/16, availability_zones: [eu-west-1a, eu-west-1b]}}\n"
    )
    assert load_platform(config_dir).environments[name].account_id == "444444444444"


def test_empty_config_directory(tmp_path: Path) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "README.md").write_text("no environments here\n")
    assert only_problem(config_dir) == f"{config_dir}: no environment files (*.yaml); add one per environment"


def test_missing_config_directory(tmp_path: Path) -> None:
    config_dir = tmp_path / "nowhere"
    assert only_problem(config_dir).startswith(f"{config_dir}: configuration folder not found; create it")


def test_config_path_that_is_a_file(tmp_path: Path) -> None:
    config_file = tmp_path / "dev.yaml"
    config_file.write_text("region: eu-west-1\n")
    assert only_problem(config_file).startswith(f"{config_file}: configuration folder not found; create it")


# --- network ---------------------------------------------------------------------------------------

EXISTING_VPC = {
    "vpc_id": "vpc-0123456789abcdef0",
    "cidr": "10.40.0.0/16",
    "subnets": [
        {"subnet_id": "subnet-0aaaaaaa", "availability_zone": "eu-west-1a", "route_table_id": "rtb-0aaaaaaa"},
        {"subnet_id": "subnet-0bbbbbbb", "availability_zone": "eu-west-1b", "route_table_id": "rtb-0bbbbbbb"},
    ],
}
THIRD_SUBNET = {
    "subnet_id": "subnet-0ccccccc",
    "availability_zone": "eu-west-1c",
    "route_table_id": "rtb-0ccccccc",
}


@pytest.mark.parametrize(
    "change",
    [set_value("network", "existing_vpc", value=EXISTING_VPC), delete("network", "new_vpc")],
    ids=["both", "neither"],
)
def test_exactly_one_vpc(config_copy: EditConfig, change: Change) -> None:
    config_dir = config_copy("prod", change)
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "network",
        "has both or neither of new_vpc and existing_vpc; set exactly one of new_vpc",
    )


def test_existing_vpc_instead_of_new_vpc_loads(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "prod",
        combine(delete("network", "new_vpc"), set_value("network", "existing_vpc", value=EXISTING_VPC)),
    )
    network = load_platform(config_dir).environments["prod"].network
    assert network.new_vpc is None
    assert network.availability_zones == ("eu-west-1a", "eu-west-1b")


@pytest.mark.parametrize(
    ("change", "field_path", "message"),
    [
        (
            set_value("network", "existing_vpc", "subnets", 1, "availability_zone", value="eu-west-1a"),
            "network.existing_vpc.subnets",
            "the subnets are all in one availability zone; list subnets in at least two",
        ),
        (
            set_value("network", "existing_vpc", "subnets", 1, "subnet_id", value="subnet-0aaaaaaa"),
            "network.existing_vpc",
            "duplicate subnet ids: subnet-0aaaaaaa",
        ),
        (
            set_value("network", "existing_vpc", "vpc_id", value="vpc-XYZ"),
            "network.existing_vpc.vpc_id",
            "'vpc-XYZ' does not match",
        ),
        (
            # A third subnet keeps two valid ones: see test_one_bad_item_is_one_problem.
            combine(
                append("network", "existing_vpc", "subnets", value=THIRD_SUBNET),
                set_value("network", "existing_vpc", "subnets", 0, "route_table_id", value="rt-1"),
            ),
            "network.existing_vpc.subnets[0].route_table_id",
            "'rt-1' does not match",
        ),
        (
            delete("network", "existing_vpc", "subnets", 1),
            "network.existing_vpc.subnets",
            "needs at least 2 item(s), not 1",
        ),
    ],
    ids=["one-zone", "duplicate-subnet", "vpc-id", "route-table-id", "one-subnet"],
)
def test_bad_existing_vpc(config_copy: EditConfig, change: Change, field_path: str, message: str) -> None:
    config_dir = config_copy(
        "prod",
        combine(
            delete("network", "new_vpc"), set_value("network", "existing_vpc", value=EXISTING_VPC), change
        ),
    )
    check_problem(only_problem(config_dir), config_dir, "prod.yaml", field_path, message)


@pytest.mark.parametrize(
    ("cidr", "mask", "zones", "room"),
    [("10.30.0.0/16", 17, 3, 2), ("10.30.0.0/24", 16, 2, 0), ("10.30.0.0/24", 25, 3, 2)],
    ids=["16-by-17-for-3", "mask-wider-than-vpc", "24-by-25-for-3"],
)
def test_subnet_cidr_mask_too_small_for_the_zones(
    config_copy: EditConfig, cidr: str, mask: int, zones: int, room: int
) -> None:
    config_dir = config_copy(
        "prod",
        combine(
            set_value("network", "new_vpc", "cidr", value=cidr),
            set_value("network", "new_vpc", "subnet_cidr_mask", value=mask),
            set_value(
                "network",
                "new_vpc",
                "availability_zones",
                value=["eu-west-1a", "eu-west-1b", "eu-west-1c"][:zones],
            ),
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "network.new_vpc.subnet_cidr_mask",
        f"/{mask} leaves room for {room} subnet(s) in {cidr}, but {zones} availability zones need one each",
    )


@pytest.mark.parametrize(
    ("cidr", "message"),
    [
        ("10.0.0.0/8", "has a /8 prefix, outside what a VPC takes; use a prefix length between /16 and /24"),
        ("10.30.0.0/25", "has a /25 prefix"),
        ("10.30.0.1/16", "is not an IPv4 network in CIDR notation"),
        ("10.30.0.0", "has a /32 prefix"),
        ("fd00::/56", "is not an IPv4 network in CIDR notation"),
    ],
)
def test_bad_vpc_cidr(config_copy: EditConfig, cidr: str, message: str) -> None:
    config_dir = config_copy("prod", set_value("network", "new_vpc", "cidr", value=cidr))
    check_problem(
        only_problem(config_dir), config_dir, "prod.yaml", "network.new_vpc.cidr", f"'{cidr}'", message
    )


def test_bad_flow_log_retention(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("network", "flow_log_retention_days", value=100))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "network.flow_log_retention_days",
        "100 is not an allowed value; use ",
        "365",
    )


# --- sign-in ---------------------------------------------------------------------------------------


def test_sso_domain_user_without_sso_user_name(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", delete(*SSO_DOMAIN, "users", 0, "sso_user_name"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[1].users[0].sso_user_name",
        "'platform-admin' has no sso_user_name, and the domain uses auth_mode SSO",
    )


def test_iam_domain_user_with_sso_user_name(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "users", 1, "sso_user_name", value="bob@example.com"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].users[1].sso_user_name",
        "'bob' sets sso_user_name, which only applies with auth_mode SSO",
    )


def test_unknown_auth_mode(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "auth_mode", value="OIDC"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].auth_mode",
        "'IAM' or 'SSO'",
        "'OIDC'",
    )


# --- personas --------------------------------------------------------------------------------------


def test_unknown_persona_on_a_user(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "users", 1, "persona", value="wizard"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].users[1].persona",
        "'wizard' is not a persona; use one of analyst, data-scientist, ml-engineer",
    )


def test_unknown_default_persona(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*SSO_DOMAIN, "default_persona", value="wizard"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[1].default_persona",
        "'wizard' is not a persona; use one of analyst, data-scientist, ml-engineer",
    )


def test_jobs_capability_without_job_instance_types(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", delete(*PERSONAS, "data-scientist", "job_instance_types"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.data-scientist.job_instance_types",
        "the 'jobs' capability needs job_instance_types",
    )


def test_model_approval_without_model_registry(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        set_value(*PERSONAS, "ml-engineer", "capabilities", value=["jobs", "pipelines", "model_approval"]),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.ml-engineer.capabilities",
        "the 'model_approval' capability needs 'model_registry' too",
    )


@pytest.mark.parametrize(
    ("location", "value", "field_path", "message"),
    [
        (
            (*PERSONAS, "analyst", "capabilities"),
            ["admin"],
            "studio.personas.analyst.capabilities[0]",
            "'admin' is not an allowed value; use 'jobs', ",
        ),
        (
            (*PERSONAS, "analyst", "capabilities"),
            ["experiments", "experiments"],
            "studio.personas.analyst.capabilities",
            "duplicate capabilities: experiments",
        ),
        (
            (*PERSONAS, "data-scientist", "job_instance_types"),
            ["m5.large"],
            "studio.personas.data-scientist.job_instance_types",
            "'m5.large' is not a SageMaker instance type",
        ),
        (
            (*PERSONAS, "analyst", "description"),
            "",
            "studio.personas.analyst.description",
            "is empty; give it a value",
        ),
        ((*PERSONAS,), {}, "studio.personas", "at least 1 item"),
        (("studio", "domains"), [], "studio.domains", "at least 1 item"),
    ],
    ids=[
        "unknown-capability",
        "duplicate-capability",
        "job-instance-type",
        "empty-description",
        "none",
        "no-domains",
    ],
)
def test_bad_persona_settings(
    config_copy: EditConfig, location: tuple[str | int, ...], value: object, field_path: str, message: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value=value))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, message)


def test_persona_name_must_be_a_sagemaker_name(config_copy: EditConfig) -> None:
    def rename(data: dict[str, Any]) -> None:
        personas = data["studio"]["personas"]
        personas["data_scientist"] = personas.pop("analyst")

    config_dir = config_copy("dev", rename)
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.data_scientist",
        "'data_scientist' is not a valid SageMaker name",
    )


# --- lifecycle configurations ----------------------------------------------------------------------


def test_lifecycle_script_file_missing(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", set_value(*DOMAIN, "lifecycle_configs", 0, "script", value="lifecycle/nope.sh")
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].lifecycle_configs[0].script",
        "script file 'lifecycle/nope.sh' not found",
        str((config_dir / "lifecycle" / "nope.sh").resolve()),
        "; give a path relative to",
    )


def test_lifecycle_script_that_is_a_directory(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "lifecycle_configs", 0, "script", value="lifecycle"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].lifecycle_configs[0].script",
        "script file 'lifecycle' not found",
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("echo hello\n", "has no shebang line; start it with one such as #!/bin/bash"),
        ("\n#!/bin/bash\necho hello\n", "has no shebang line"),
        ("", "is empty"),
        ("  \n\n", "is empty"),
        ("#!/bin/bash\n" + "# padding\n" * 1300, "base64 encoded, and SageMaker allows 16384"),
    ],
    ids=["no-shebang", "blank-line-before-shebang", "empty", "blank", "too-large"],
)
def test_bad_lifecycle_script(config_copy: EditConfig, content: str, message: str) -> None:
    config_dir = config_copy()
    _write_script(config_dir, content)
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].lifecycle_configs[0].script",
        "script file 'lifecycle/test.sh'",
        message,
    )


def test_lifecycle_script_at_the_size_limit_loads(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    header = "#!/bin/bash\n"
    # 12288 bytes encode to exactly 16384 base64 characters.
    _write_script(config_dir, header + "#" * (12288 - len(header) - 1) + "\n")
    studio = load_platform(config_dir).environments["dev"].studio
    assert studio is not None
    assert len(studio.domains[0].lifecycle_configs[0].script.content_base64) == 16384


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("app_type", "RStudio", "'JupyterLab' or 'CodeEditor'"),
        ("name", "a" * 41, "is longer than 40 characters; shorten it to at most 40"),
        ("run_by_default", "yes", "'yes' is not true or false; write true or false, without quotes"),
    ],
)
def test_bad_lifecycle_config_settings(config_copy: EditConfig, field: str, value: str, message: str) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "lifecycle_configs", 0, field, value=value))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        f"studio.domains[0].lifecycle_configs[0].{field}",
        message,
    )


# --- what Studio hides, instance types and storage -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message", "allowed"),
    [
        ("ml_tools", "Notebooks", "unknown ML tool 'Notebooks'", "EmrClusters"),
        ("ml_tools", "emrclusters", "unknown ML tool 'emrclusters'", "EmrClusters"),
        ("app_types", "RStudio", "unknown app type 'RStudio'", "RStudioServerPro"),
        ("ml_tools", "AutoMl", "duplicate ML tools: AutoMl", "list each once"),
    ],
    ids=["unknown-tool", "tool-case", "unknown-app-type", "duplicate-tool"],
)
def test_bad_hidden_values(
    config_copy: EditConfig, field: str, value: str, message: str, allowed: str
) -> None:
    config_dir = config_copy("dev", append(*DOMAIN, "hidden", field, value=value))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        f"studio.domains[0].hidden.{field}",
        message,
        allowed,
    )


@pytest.mark.parametrize(
    ("location", "field_path"),
    [
        (
            (*DOMAIN, "jupyterlab", "default_instance_type"),
            "studio.domains[0].jupyterlab.default_instance_type",
        ),
        (
            (*DOMAIN, "code_editor", "default_instance_type"),
            "studio.domains[0].code_editor.default_instance_type",
        ),
        ((*DOMAIN, "spaces", 0, "instance_type"), "studio.domains[0].spaces[0].instance_type"),
        ((*PERSONAS, "analyst", "app_instance_types", 1), "studio.personas.analyst.app_instance_types[1]"),
        ((*DOMAIN, "hidden", "instance_types", 0), "studio.domains[0].hidden.instance_types[0]"),
    ],
    ids=["jupyterlab-default", "code-editor-default", "space", "persona", "hidden"],
)
@pytest.mark.parametrize("instance_type", ["ml.t3.foo", "t3.medium", "ml.m5.xlarge "])
def test_bad_app_instance_type(
    config_copy: EditConfig, location: tuple[str | int, ...], field_path: str, instance_type: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value=instance_type))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        field_path,
        f"'{instance_type}' is not a SageMaker Studio app instance type",
    )


@pytest.mark.parametrize(
    ("location", "field_path", "message"),
    [
        (
            (*DOMAIN, "spaces", 0, "instance_type"),
            "spaces[0].instance_type",
            "ml.p4d.24xlarge is hidden in this domain (hidden.instance_types)",
        ),
        (
            (*DOMAIN, "jupyterlab", "default_instance_type"),
            "jupyterlab.default_instance_type",
            "ml.p4d.24xlarge is in hidden.instance_types",
        ),
        (
            (*DOMAIN, "code_editor", "default_instance_type"),
            "code_editor.default_instance_type",
            "ml.p4d.24xlarge is in hidden.instance_types",
        ),
    ],
    ids=["space", "jupyterlab-default", "code-editor-default"],
)
def test_hidden_instance_type_in_use(
    config_copy: EditConfig, location: tuple[str | int, ...], field_path: str, message: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value="ml.p4d.24xlarge"))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", f"studio.domains[0].{field_path}", message
    )


def test_space_storage_above_domain_max(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "spaces", 0, "storage_gb", value=300))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].spaces[0].storage_gb",
        "300 GB is above the domain's storage.max_space_gb (200)",
    )


@pytest.mark.parametrize(
    ("location", "value", "field_path", "message"),
    [
        (
            (*DOMAIN, "spaces", 0, "storage_gb"),
            4,
            "studio.domains[0].spaces[0].storage_gb",
            "4 is below the minimum 5",
        ),
        (
            (*DOMAIN, "spaces", 0, "storage_gb"),
            16385,
            "studio.domains[0].spaces[0].storage_gb",
            "16385 is above the maximum 16384",
        ),
        (
            (*DOMAIN, "storage", "default_space_gb"),
            300,
            "studio.domains[0].storage.default_space_gb",
            "300 exceeds max_space_gb (200)",
        ),
        (
            (*DOMAIN, "spaces", 0, "sharing"),
            "public",
            "studio.domains[0].spaces[0].sharing",
            "'private' or 'shared'",
        ),
        (
            (*DOMAIN, "spaces", 2, "display_name"),
            "x" * 65,
            "studio.domains[0].spaces[2].display_name",
            "at most 64",
        ),
    ],
    ids=["storage-4", "storage-above-16384", "default-above-max", "sharing", "display-name"],
)
def test_bad_space_and_storage_settings(
    config_copy: EditConfig, location: tuple[str | int, ...], value: object, field_path: str, message: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value=value))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", field_path, message)


# --- types: no coercion ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environment", "location", "value", "expected"),
    [
        (
            "prod",
            ("retain_stateful_resources",),
            '"true"',
            ("retain_stateful_resources", "'true' is not true or false"),
        ),
        (
            "prod",
            ("retain_stateful_resources",),
            "1",
            ("retain_stateful_resources", "1 is not true or false"),
        ),
        (
            "dev",
            (*DOMAIN, "docker_access"),
            '"yes"',
            ("studio.domains[0].docker_access", "'yes' is not true or false"),
        ),
        (
            "prod",
            ("network", "new_vpc", "subnet_cidr_mask"),
            '"20"',
            ("network.new_vpc.subnet_cidr_mask", "'20' is not a whole number; write a whole number"),
        ),
        ("prod", ("tags", "cost-center"), "42", ("tags.cost-center", "42 is not text; write text")),
        ("prod", ("region",), "[eu-west-1]", ("region", "['eu-west-1'] is not text")),
    ],
    ids=[
        "bool-from-string",
        "bool-from-int",
        "docker-from-string",
        "int-from-string",
        "str-from-int",
        "list",
    ],
)
def test_values_of_the_wrong_type_are_rejected(
    config_copy: EditConfig,
    environment: str,
    location: tuple[str | int, ...],
    value: str,
    expected: tuple[str, str],
) -> None:
    """`value` is YAML text: a quoted "true" is a string, and must not pass for a boolean."""
    field_path, message = expected
    config_dir = config_copy(environment, set_value(*location, value=yaml.safe_load(value)))
    check_problem(only_problem(config_dir), config_dir, f"{environment}.yaml", field_path, message)


def test_quoted_true_written_by_hand_is_rejected(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    replace_text(
        config_dir, "prod.yaml", "retain_stateful_resources: true", 'retain_stateful_resources: "true"'
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "retain_stateful_resources",
        "'true' is not true or false; write true or false, without quotes",
    )


# --- several problems at once ----------------------------------------------------------------------


def test_errors_in_different_environments_are_each_reported_once(config_copy: EditConfig) -> None:
    config_copy("dev", set_value("region", value="eu-west-9"))
    config_dir = config_copy("prod", set_value("network", "colour", value="blue"))
    problems = problems_of(config_dir)
    assert len(problems) == 2, problems
    assert count_matching(problems, "dev.yaml: region: unknown region 'eu-west-9'") == 1
    assert count_matching(problems, "prod.yaml: network.colour: unknown key") == 1
    check_problem(problems[0], config_dir, "dev.yaml", "region", "unknown region 'eu-west-9'")
    check_problem(problems[1], config_dir, "prod.yaml", "network.colour", "unknown key")


def test_every_file_with_an_error_is_reported(config_copy: EditConfig) -> None:
    config_copy("dev", set_value(*DOMAIN, "name", value="bad_name"))
    config_copy("staging", set_value("account_id", value="123"))
    config_dir = config_copy()
    (config_dir / "prod.yaml").write_text("")
    problems = problems_of(config_dir)
    assert len(problems) == 3, problems
    assert [file_of(problem).name for problem in problems] == ["dev.yaml", "prod.yaml", "staging.yaml"]


def test_several_errors_in_one_file_are_each_reported(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            set_value("account_id", value="123"),
            set_value("region", value="eu-west-9"),
            set_value(*DOMAIN, "users", 2, "name", value="carol_c"),
            set_value(*PERSONAS, "analyst", "capabilities", value=["admin"]),
        ),
    )
    problems = problems_of(config_dir)
    assert len(problems) == 4, problems
    for field_path in (
        "account_id",
        "region",
        "studio.domains[0].users[2].name",
        "studio.personas.analyst.capabilities[0]",
    ):
        assert count_matching(problems, f"dev.yaml: {field_path}: ") == 1, field_path


def test_several_domain_problems_are_separate_lines(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            append(*DOMAIN, "users", value={"name": "alice", "persona": "analyst"}),
            set_value(*DOMAIN, "spaces", 1, "owner", value="zed"),
            set_value(*DOMAIN, "spaces", 2, "storage_gb", value=201),
        ),
    )
    problems = problems_of(config_dir)
    assert len(problems) == 3, problems
    for problem in problems:
        assert "\n" not in problem
    assert count_matching(problems, "studio.domains[0].users: duplicate user names: alice") == 1
    assert count_matching(problems, "studio.domains[0].spaces[1].owner: 'zed' is not a user") == 1
    assert count_matching(problems, "studio.domains[0].spaces[2].storage_gb: 201 GB is above") == 1


def test_cross_environment_checks_wait_for_valid_files(config_copy: EditConfig) -> None:
    """With a broken file, trusts naming it would be reported falsely: only the file's own problem shows."""
    config_dir = config_copy()
    (config_dir / "prod.yaml").write_text("account_id: [\n")
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "prod.yaml").resolve(), problem
    assert "not valid YAML" in problem


def test_config_error_lists_each_problem_once() -> None:
    error = ConfigError(["a.yaml: x: bad", "b.yaml: y: bad", "a.yaml: x: bad"])
    assert error.problems == ("a.yaml: x: bad", "b.yaml: y: bad")
    assert (
        str(error) == "invalid platform configuration (2 problem(s)):\n  - a.yaml: x: bad\n  - b.yaml: y: bad"
    )


# --- inputs that once slipped through (each was a bug) ---------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "a" + "-" * 62 + "b",
        "data-science-research-and-development-for-the-churn-model-team-europe",
    ],
    ids=["hyphen-run", "hyphenated-words"],
)
def test_hyphenated_name_longer_than_63_characters(config_copy: EditConfig, name: str) -> None:
    assert len(name) > 63
    config_dir = config_copy("dev", set_value(*DOMAIN, "name", value=name))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", "studio.domains[0].name", "not a valid SageMaker"
    )


@pytest.mark.parametrize(
    ("location", "value"),
    [
        (("account_id",), "110000000001\n"),
        (("account_id",), "\u0661" * 12),
        ((*DOMAIN, "users", 2, "name"), "carol\n"),
    ],
    ids=["account-newline", "account-arabic-digits", "user-newline"],
)
def test_trailing_newline_and_non_ascii_digits(
    config_copy: EditConfig, location: tuple[str | int, ...], value: str
) -> None:
    config_dir = config_copy("dev", set_value(*location, value=value))
    problems_of(config_dir)


def test_script_must_be_a_file_path(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        set_value(
            *DOMAIN,
            "lifecycle_configs",
            0,
            "script",
            value={"path": "nowhere.sh", "content": "echo no shebang"},
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].lifecycle_configs[0].script",
        "script",
    )


def test_unhashable_yaml_key(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    (config_dir / "staging.yaml").write_text("[a, b]: 1\n")
    problem = only_problem(config_dir)
    assert "not valid YAML" in problem


def test_file_that_is_not_utf8(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    path = config_dir / "staging.yaml"
    path.write_bytes(path.read_bytes() + b"# caf\xe9 (latin-1)\n")
    assert file_of(only_problem(config_dir)) == path.resolve()


def test_allowed_keys_under_a_persona_named_like_a_field(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", set_value(*PERSONAS, "description", value={"description": "x", "bogus": 1})
    )
    problem = only_problem(config_dir)
    assert problem.endswith(
        "studio.personas.description.bogus: unknown key; allowed keys here: "
        "app_instance_types, capabilities, description, job_instance_types, network_isolation"
    ), problem


@pytest.mark.parametrize(
    ("environment", "change"),
    [
        (
            "dev",
            combine(
                delete(*SSO_DOMAIN),
                set_value(*DOMAIN, "name", value="bad_name"),
            ),
        ),
        ("prod", set_value("network", "new_vpc", "availability_zones", value=["eu-west-1a", 5])),
    ],
    ids=["single-domain-with-bad-name", "zone-not-a-string"],
)
def test_one_bad_item_is_one_problem(config_copy: EditConfig, environment: str, change: Change) -> None:
    config_dir = config_copy(environment, change)
    problems = problems_of(config_dir)
    assert count_matching(problems, "after validation") == 0, problems
    assert len(problems) == 1, problems


@pytest.mark.parametrize(
    "location",
    [(*DOMAIN, "jupyterlab", "default_instance_type"), (*DOMAIN, "spaces", 0, "instance_type")],
    ids=["jupyterlab-default", "space"],
)
def test_system_instance_type(config_copy: EditConfig, location: tuple[str | int, ...]) -> None:
    config_dir = config_copy("dev", set_value(*location, value="system"))
    problems_of(config_dir)


def test_a_yml_file_is_an_error_not_silently_ignored(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    (config_dir / "qa.yml").write_text((config_dir / "staging.yaml").read_text())
    problem = only_problem(config_dir)
    assert file_of(problem) == (config_dir / "qa.yml").resolve()
    assert "rename it to qa.yaml" in problem


@pytest.mark.parametrize("name", ["xn--dev", "sthree-dev"])
def test_environment_name_with_a_prefix_s3_reserves(config_copy: EditConfig, name: str) -> None:
    config_dir = config_copy()
    (config_dir / f"{name}.yaml").write_text(
        (config_dir / "staging.yaml").read_text().replace("220000000002", "444444444444")
    )
    problems = problems_of(config_dir)
    assert count_matching(problems, f"{name}.yaml", "prefix S3 reserves") == 1, problems


def test_endpoints_capability_without_job_instance_types(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        combine(
            set_value(*PERSONAS, "analyst", "capabilities", value=["endpoints"]),
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.analyst.job_instance_types",
        "the 'endpoints' capability needs job_instance_types",
    )


def test_unknown_shared_space_persona(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "shared_space_persona", value="wizard"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].shared_space_persona",
        "'wizard' is not a persona",
    )


def test_domain_default_instance_type_a_users_persona_may_not_start(config_copy: EditConfig) -> None:
    # carol is an analyst, who may start ml.t3.medium and ml.t3.large only.
    config_dir = config_copy(
        "dev", set_value(*DOMAIN, "jupyterlab", "default_instance_type", value="ml.m5.large")
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].jupyterlab.default_instance_type",
        "ml.m5.large is not in the app_instance_types of persona 'analyst'",
        "'carol' could not start it",
    )


@pytest.mark.parametrize(
    ("space", "persona"), [(0, "data-scientist"), (2, "analyst")], ids=["private", "shared"]
)
def test_space_instance_type_its_role_may_not_start(
    config_copy: EditConfig, space: int, persona: str
) -> None:
    # Private spaces run with the owner's role, shared ones with the shared-space persona's role.
    config_dir = config_copy(
        "dev", set_value(*DOMAIN, "spaces", space, "instance_type", value="ml.c5.xlarge")
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        f"studio.domains[0].spaces[{space}].instance_type",
        f"persona '{persona}' (whose role the space runs with) may not start",
    )


def test_two_lifecycle_configs_run_by_default_for_one_app_type(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev",
        append(
            *DOMAIN,
            "lifecycle_configs",
            value={
                "name": "second",
                "app_type": "JupyterLab",
                "script": "lifecycle/jupyterlab-platform-defaults.sh",
            },
        ),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].lifecycle_configs",
        "jupyterlab-defaults, second all set run_by_default for JupyterLab",
    )


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        ({"project": "x"}, "tag key 'project' is reserved"),
        ({"aws:owner": "x"}, "tag key 'aws:owner' is reserved"),
        ({"team": "x" * 129}, "is 129 characters long, and AWS takes at most 128"),
        ({"team": "a,b"}, "the value 'a,b' does not match the pattern AWS requires"),
    ],
    ids=["platform-tag", "aws-prefix", "too-long", "bad-character"],
)
def test_bad_tags(config_copy: EditConfig, tags: dict[str, str], words: str) -> None:
    config_dir = config_copy("staging", set_value("tags", value=tags))
    (key,) = tags
    field_path = f"tags['{key}']" if ":" in key else f"tags.{key}"
    check_problem(only_problem(config_dir), config_dir, "staging.yaml", field_path, words)


def test_flow_log_retention_must_be_whole_days(config_copy: EditConfig) -> None:
    config_dir = config_copy("prod", set_value("network", "flow_log_retention_days", value=365.0))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "prod.yaml",
        "network.flow_log_retention_days",
        "whole number of days",
    )


def test_duplicate_app_instance_types(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", set_value(*PERSONAS, "analyst", "app_instance_types", value=["ml.t3.medium", "ml.t3.medium"])
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.analyst.app_instance_types",
        "duplicate app instance types: ml.t3.medium",
    )


def test_network_isolation_needs_jobs_or_endpoints() -> None:
    with pytest.raises(ValidationError, match="network_isolation applies to jobs and models"):
        PersonaConfig.model_validate(
            {"description": "Reads results", "capabilities": ["experiments"], "network_isolation": True}
        )
    isolated = PersonaConfig.model_validate(
        {
            "description": "Trains",
            "capabilities": ["jobs"],
            "job_instance_types": ["ml.m5.large"],
            "network_isolation": True,
        }
    )
    assert isolated.network_isolation
