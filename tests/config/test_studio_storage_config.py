"""Studio storage: home EFS off unless asked, and team file systems that name users and spaces that exist.

The sample's ml-research domain (domains[0]) has users alice, bob, carol; private spaces alice-lab (alice)
and bob-editor (bob), the shared space churn-model-team; and file_systems[0] 'churn-team' for alice and
churn-model-team.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from platform_config import load_platform
from platform_config.models import DomainConfig
from tests.config.conftest import (
    EditConfig,
    append,
    check_problem,
    combine,
    count_matching,
    delete,
    only_problem,
    problems_of,
    set_value,
)

DOMAIN = ("studio", "domains", 0)
SSO_DOMAIN = ("studio", "domains", 1)
FILE_SYSTEM = (*DOMAIN, "file_systems", 0)


def _domain(config_dir: Path, index: int = 0) -> DomainConfig:
    studio = load_platform(config_dir).environments["dev"].studio
    assert studio is not None
    return studio.domains[index]


def test_home_efs_is_off_unless_configured(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", combine(delete(*DOMAIN, "home_efs"), set_value(*SSO_DOMAIN, "home_efs", value=True))
    )
    assert (_domain(config_dir, 0).home_efs, _domain(config_dir, 1).home_efs) == (False, True)


def test_home_efs_is_a_real_boolean(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*DOMAIN, "home_efs", value="yes"))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].home_efs",
        "'yes' is not true or false",
    )


def test_which_profiles_and_spaces_mount_the_sample_file_system(sample_domain: DomainConfig) -> None:
    assert {user.name: sample_domain.user_file_systems(user.name) for user in sample_domain.users} == {
        "alice": ("churn-team",),
        "bob": (),
        "carol": (),
    }
    # alice's private space through alice; the shared space because it is listed.
    assert {space.name: sample_domain.space_file_systems(space) for space in sample_domain.spaces} == {
        "alice-lab": ("churn-team",),
        "bob-editor": (),
        "churn-model-team": ("churn-team",),
    }
    assert sample_domain.shared_space_file_systems() == ("churn-team",)


def test_a_listed_private_space_puts_the_file_system_in_its_owners_profile(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*FILE_SYSTEM, "spaces", value=["bob-editor"]))
    domain = _domain(config_dir)
    assert domain.user_file_systems("bob") == ("churn-team",)
    assert domain.space_file_systems(domain.spaces[1]) == ("churn-team",)
    # No shared space lists it: the default space settings offer nothing.
    assert domain.shared_space_file_systems() == ()


@pytest.fixture
def sample_domain(config_copy: EditConfig) -> DomainConfig:
    return _domain(config_copy())


@pytest.mark.parametrize(
    ("field", "value", "field_path", "words"),
    [
        ("users", ["alice", "zed"], "users[1]", "'zed' is not a user of this domain"),
        ("spaces", ["nowhere"], "spaces[0]", "'nowhere' is not a space of this domain"),
        # A user of the other domain is not a user of this one.
        ("users", ["platform-admin"], "users[0]", "'platform-admin' is not a user of this domain"),
    ],
    ids=["unknown-user", "unknown-space", "user-of-another-domain"],
)
def test_unknown_users_and_spaces(
    config_copy: EditConfig, field: str, value: list[str], field_path: str, words: str
) -> None:
    config_dir = config_copy("dev", set_value(*FILE_SYSTEM, field, value=value))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        f"studio.domains[0].file_systems[0].{field_path}",
        words,
    )


def test_duplicate_file_system_names(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", append(*DOMAIN, "file_systems", value={"name": "churn-team", "users": ["carol"]})
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].file_systems",
        "duplicate file system names: churn-team; list each once",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("users", ["alice", "alice"], "duplicate users: alice"),
        ("spaces", ["churn-model-team", "churn-model-team"], "duplicate spaces: churn-model-team"),
    ],
)
def test_duplicates_within_a_file_system(
    config_copy: EditConfig, field: str, value: list[str], words: str
) -> None:
    config_dir = config_copy("dev", set_value(*FILE_SYSTEM, field, value=value))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", f"studio.domains[0].file_systems[0].{field}", words
    )


def test_a_file_system_for_nobody_is_rejected(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", set_value(*FILE_SYSTEM, value={"name": "orphan"}))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].file_systems[0]",
        "file system 'orphan' is attached to nobody",
    )


@pytest.mark.parametrize(
    ("entry", "field_path", "words"),
    [
        ({"name": "Team_Share", "users": ["bob"]}, "file_systems[0].name", "is not a valid SageMaker name"),
        ({"name": "t" * 41, "users": ["bob"]}, "file_systems[0].name", "is longer than 40 characters"),
        (
            {"name": "team", "users": ["bob"], "size_gb": 10},
            "file_systems[0].size_gb",
            "unknown key; allowed keys here: automatic_backups, name, spaces, users",
        ),
        (
            {"name": "team", "users": ["bob"], "automatic_backups": "no"},
            "file_systems[0].automatic_backups",
            "is not true or false",
        ),
    ],
    ids=["name-pattern", "name-length", "unknown-key", "backups-not-boolean"],
)
def test_malformed_entries_name_the_field(
    config_copy: EditConfig, entry: dict[str, object], field_path: str, words: str
) -> None:
    config_dir = config_copy("dev", set_value(*FILE_SYSTEM, value=entry))
    check_problem(only_problem(config_dir), config_dir, "dev.yaml", f"studio.domains[0].{field_path}", words)


def test_a_space_mounts_at_most_one_file_system(config_copy: EditConfig) -> None:
    # alice-lab would get churn-team (through alice) and lab-share (listed): SageMaker takes one per space.
    config_dir = config_copy(
        "dev", append(*DOMAIN, "file_systems", value={"name": "lab-share", "spaces": ["alice-lab"]})
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].file_systems",
        "space 'alice-lab' would mount 2 file systems (churn-team, lab-share), and SageMaker allows at most",
    )


def test_shared_spaces_are_offered_at_most_two_file_systems(config_copy: EditConfig) -> None:
    more_shared_spaces = [
        append(*DOMAIN, "spaces", value={"name": f"team-{index}", "sharing": "shared", "owner": "bob"})
        for index in (1, 2)
    ]
    file_systems = [
        append(*DOMAIN, "file_systems", value={"name": f"share-{index}", "spaces": [f"team-{index}"]})
        for index in (1, 2)
    ]
    problems = problems_of(config_copy("dev", combine(*more_shared_spaces, *file_systems)))
    assert len(problems) == 1, problems
    assert count_matching(problems, "the shared spaces would mount 3 file systems", "at most 2") == 1
