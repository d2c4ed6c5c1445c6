"""The `iam` section (role path, permissions boundary): bad values name the file and field; good values
name the roles and the boundary the way IAM will."""

from __future__ import annotations

import pytest

from platform_config import PlatformConfig, load_platform, naming
from tests.config.conftest import Change, EditConfig, check_problem, only_problem, problems_of, set_value


def set_boundary(value: object) -> Change:
    return set_value("iam", value={"permissions_boundary": value})


def test_the_default_is_no_boundary_and_the_root_path(sample_platform: PlatformConfig) -> None:
    for environment in sample_platform.environments.values():
        assert environment.iam.role_path == "/"
        assert environment.iam.permissions_boundary is None
        assert naming.permissions_boundary_arn(environment) is None
    dev = sample_platform.environments["dev"]
    assert naming.role_arn(dev, "x") == "arn:aws:iam::110000000001:role/x"


@pytest.mark.parametrize(
    ("boundary", "arn"),
    [
        ({"create": True}, "arn:aws:iam::110000000001:policy/teams/ml/dev-sagemaker-platform-boundary"),
        (
            {"managed_policy_arn": "arn:aws:iam::110000000001:policy/my-boundary"},
            "arn:aws:iam::110000000001:policy/my-boundary",
        ),
        (
            {"managed_policy_arn": "arn:aws:iam::110000000001:policy/guardrails/my-boundary"},
            "arn:aws:iam::110000000001:policy/guardrails/my-boundary",
        ),
        (
            {"managed_policy_arn": "arn:aws:iam::aws:policy/PowerUserAccess"},
            "arn:aws:iam::aws:policy/PowerUserAccess",
        ),
    ],
    ids=["created", "own-account", "own-account-with-path", "aws-managed"],
)
def test_a_path_and_a_boundary_name_the_roles_as_iam_will(
    config_copy: EditConfig, boundary: dict[str, object], arn: str
) -> None:
    config_dir = config_copy(
        "dev", set_value("iam", value={"role_path": "/teams/ml/", "permissions_boundary": boundary})
    )
    platform = load_platform(config_dir)
    dev = platform.environments["dev"]
    assert naming.role_path(dev) == "/teams/ml/"
    assert naming.role_arn(dev, naming.promotion_role_name("dev")) == (
        "arn:aws:iam::110000000001:role/teams/ml/dev-sagemaker-platform-promotion"
    )
    # `cdk bootstrap` creates CloudFormation's role: never on the platform's path.
    assert naming.cloudformation_execution_role_arn(dev) == (
        "arn:aws:iam::110000000001:role/cdk-hnb659fds-cfn-exec-role-110000000001-eu-west-1"
    )
    assert naming.permissions_boundary_arn(dev) == arn
    # Other environments keep their defaults: the section is per environment.
    assert naming.role_arn(platform.environments["prod"], "x") == "arn:aws:iam::330000000003:role/x"


@pytest.mark.parametrize(
    "path",
    [
        "sagemaker-platform/",
        "/sagemaker-platform",
        "",
        "//",
        "/a//b/",
        "/ml platform/",
        "/ml*/",
        "/ml?/",
        "/plateforme-é/",
        "/" + "a" * 511 + "/",
    ],
    ids=[
        "no-leading-slash",
        "no-trailing-slash",
        "empty",
        "double-slash",
        "empty-segment",
        "space",
        "wildcard",
        "single-wildcard",
        "non-ascii",
        "513-characters",
    ],
)
def test_bad_role_paths(config_copy: EditConfig, path: str) -> None:
    config_dir = config_copy("staging", set_value("iam", value={"role_path": path}))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "iam.role_path",
        f"'{path}' is not a role path",
        "is not a role path; start and end it with '/'",
    )


def test_the_longest_role_path_is_accepted(config_copy: EditConfig) -> None:
    path = "/" + "a" * 510 + "/"
    config_dir = config_copy("staging", set_value("iam", value={"role_path": path}))
    assert load_platform(config_dir).environments["staging"].iam.role_path == path


def test_a_role_path_is_a_string(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", set_value("iam", value={"role_path": 5}))
    check_problem(only_problem(config_dir), config_dir, "staging.yaml", "iam.role_path", "5 is not text")


@pytest.mark.parametrize(
    ("boundary", "words"),
    [
        ({}, "set exactly one of managed_policy_arn"),
        ({"create": False}, "set exactly one of managed_policy_arn"),
        (
            {"create": True, "managed_policy_arn": "arn:aws:iam::220000000002:policy/b"},
            "set exactly one of managed_policy_arn",
        ),
    ],
    ids=["neither", "create-false", "both"],
)
def test_a_boundary_comes_from_exactly_one_source(
    config_copy: EditConfig, boundary: dict[str, object], words: str
) -> None:
    config_dir = config_copy("staging", set_boundary(boundary))
    check_problem(only_problem(config_dir), config_dir, "staging.yaml", "iam.permissions_boundary", words)


@pytest.mark.parametrize(
    "arn",
    [
        "my-boundary",
        "arn:aws:iam::220000000002:role/my-boundary",
        "arn:aws:iam::22222222222:policy/my-boundary",
        "arn:aws:iam:eu-west-1:220000000002:policy/my-boundary",
        "arn:aws:iam::220000000002:policy/",
        "arn:aws:iam::220000000002:policy/my boundary",
        "arn:aws:iam::220000000002:policy/my-boundary*",
        "arn:aws:iam::220000000002:policy/" + "b" * 129,
    ],
    ids=["a-name", "a-role", "11-digit-account", "with-region", "no-name", "space", "wildcard", "long-name"],
)
def test_malformed_boundary_arns(config_copy: EditConfig, arn: str) -> None:
    config_dir = config_copy("staging", set_boundary({"managed_policy_arn": arn}))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "iam.permissions_boundary.managed_policy_arn",
        f"'{arn}' is not a managed policy ARN",
        "'aws' for an AWS-managed policy",
    )


def test_a_boundary_of_another_account_is_refused(config_copy: EditConfig) -> None:
    # dev's account: IAM accepts only a boundary the role's own account could attach.
    config_dir = config_copy(
        "staging", set_boundary({"managed_policy_arn": "arn:aws:iam::110000000001:policy/b"})
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "iam.permissions_boundary.managed_policy_arn",
        "the policy is in account 110000000001",
        "this environment's account (220000000002)",
    )


def test_a_boundary_of_another_partition_is_refused(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "staging",
        set_boundary({"managed_policy_arn": "arn:aws-cn:iam::220000000002:policy/b"}),
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "iam.permissions_boundary.managed_policy_arn",
        "partition 'aws-cn' does not match region eu-west-1",
    )


def test_create_is_a_boolean(config_copy: EditConfig) -> None:
    config_dir = config_copy("staging", set_boundary({"create": "true"}))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "staging.yaml",
        "iam.permissions_boundary.create",
        "is not true or false",
    )


@pytest.mark.parametrize(
    ("value", "field_path", "allowed"),
    [
        ({"path": "/x/"}, "iam.path", "permissions_boundary, role_path"),
        (
            {"permissions_boundary": {"arn": "x"}},
            "iam.permissions_boundary.arn",
            "create, managed_policy_arn",
        ),
    ],
    ids=["iam", "permissions_boundary"],
)
def test_unknown_keys_list_the_allowed_ones(
    config_copy: EditConfig, value: dict[str, object], field_path: str, allowed: str
) -> None:
    config_dir = config_copy("staging", set_value("iam", value=value))
    # An unknown key under permissions_boundary also leaves it without a source: two problems, one each.
    (problem,) = [p for p in problems_of(config_dir) if "unknown key" in p]
    check_problem(
        problem, config_dir, "staging.yaml", field_path, f"unknown key; allowed keys here: {allowed}"
    )
