"""Bad image configuration is reported with its file and field path."""

from __future__ import annotations

import pytest

from tests.config.conftest import EditConfig, append, check_problem, combine, delete, only_problem, set_value

REPOSITORY = ("images", "repositories", 0)
STUDIO_IMAGE = ("images", "repositories", 1, "studio_image")


@pytest.mark.parametrize("name", ["Decision-Tree", "team/model", "a", "trailing-", "two--dashes"])
def test_repository_names_follow_ecrs_pattern(config_copy: EditConfig, name: str) -> None:
    config_dir = config_copy("dev", set_value(*REPOSITORY, "name", value=name))
    problem = only_problem(config_dir)
    assert "images.repositories[0].name" in problem
    assert "valid repository name" in problem or "is shorter than 2 characters" in problem


def test_duplicate_repositories(config_copy: EditConfig) -> None:
    config_dir = config_copy("dev", append("images", "repositories", value={"name": "decision-tree"}))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", "images.repositories", "duplicate repository names"
    )


@pytest.mark.parametrize(
    ("studio_image", "field", "words"),
    [
        ({"image_tag": "v1", "image_digest": "sha256:" + "a" * 64}, "", "exactly one of image_tag"),
        ({"display_name": "x"}, "", "exactly one of image_tag"),
        ({"image_digest": "sha256:abc"}, ".image_digest", "sha256:<64 hex digits>"),
        ({"image_tag": "-bad"}, ".image_tag", "not a valid image tag"),
    ],
    ids=["both", "neither", "short-digest", "bad-tag"],
)
def test_studio_images_are_pinned_once(
    config_copy: EditConfig, studio_image: dict[str, str], field: str, words: str
) -> None:
    config_dir = config_copy("dev", set_value(*STUDIO_IMAGE, value=studio_image))
    check_problem(
        only_problem(config_dir), config_dir, "dev.yaml", f"images.repositories[1].studio_image{field}", words
    )


def test_a_domain_offers_only_studio_images(config_copy: EditConfig) -> None:
    # decision-tree is a repository, but not a Studio image.
    config_dir = config_copy(
        "dev", set_value("studio", "domains", 0, "custom_images", value=["decision-tree"])
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].custom_images[0]",
        "'decision-tree' is not a repository with a studio_image",
        "use one of the Studio images here (jupyterlab-data-science)",
    )


def test_custom_images_need_an_images_section(config_copy: EditConfig) -> None:
    engineer = ("studio", "personas", "ml-engineer", "capabilities")
    capabilities = ["jobs", "experiments", "pipelines", "model_registry", "model_approval", "endpoints"]
    config_dir = config_copy("dev", combine(delete("images"), set_value(*engineer, value=capabilities)))
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.domains[0].custom_images[0]",
        "Studio images here (none yet)",
    )


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("compute_type", "BUILD_GENERAL1_HUGE", "BUILD_GENERAL1_2XLARGE"),
        ("timeout_minutes", 2, "is below the minimum 5"),
        ("log_retention_days", 45, "45 is not an allowed value; use 30"),
        ("source_retention_days", 0, "is below the minimum 1"),
        ("base_image_accounts", [123], "quoted string of 12 digits"),
        ("in_vpc", "yes", "is not true or false"),
    ],
)
def test_bad_build_settings(config_copy: EditConfig, field: str, value: object, words: str) -> None:
    config_dir = config_copy("dev", set_value("images", "build", field, value=value))
    problem = only_problem(config_dir)
    assert f"images.build.{field}" in problem and words in problem, problem


def test_image_builds_need_a_build_path(config_copy: EditConfig) -> None:
    config_dir = config_copy(
        "dev", combine(delete("images"), set_value("studio", "domains", 0, "custom_images", value=[]))
    )
    check_problem(
        only_problem(config_dir),
        config_dir,
        "dev.yaml",
        "studio.personas.ml-engineer.capabilities",
        "has the image_builds capability, but this environment has no images section",
    )
