"""How environment files are read as YAML: merge keys work, duplicate keys do not, and no file can make the
loader expand aliases (or read bytes) without bound."""

from __future__ import annotations

from pathlib import Path

import yaml

from platform_config import load_platform
from platform_config.loader import MAX_EXPANDED_VALUES, MAX_FILE_BYTES
from tests.config.conftest import EditConfig, only_problem


def _append_text(config_dir: Path, text: str) -> None:
    path = config_dir / "dev.yaml"
    path.write_text(path.read_text() + text)


def test_merge_keys_fill_a_mapping_and_its_own_keys_win(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    path = config_dir / "dev.yaml"
    group = yaml.safe_load(path.read_text())["pipelines"][0]["model_package_group"]
    # Anchors live under x- keys (not settings); a second pipeline merges one and overrides a key.
    shared = "x-shared: &shared\n  max_parallel_steps: 2\n  description: shared description\n"
    second = (
        "pipelines:\n  - <<: *shared\n    name: second-build\n    definition: model_build\n"
        f"    model_package_group: {group}\n    max_parallel_steps: 7\n"
    )
    path.write_text(shared + path.read_text().replace("pipelines:\n", second, 1))
    pipelines = load_platform(config_dir).environments["dev"].pipelines
    merged = next(pipeline for pipeline in pipelines if pipeline.name == "second-build")
    assert merged.description == "shared description"  # merged
    assert merged.max_parallel_steps == 7  # its own key wins over the merged one
    assert len(pipelines) == 2


def test_two_equal_keys_are_still_refused(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    _append_text(config_dir, "region: eu-west-1\n")
    problem = only_problem(config_dir)
    assert "duplicate key 'region'; keep one of the two" in problem, problem


def test_a_billion_laughs_file_is_refused(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    lines = ['x-a0: &a0 "lol"']
    for level in range(1, 10):
        previous = f"*a{level - 1}"
        lines.append(f"x-a{level}: &a{level} [{', '.join([previous] * 10)}]")
    lines.append("x-bomb: *a9")  # 10^9 strings once written out
    _append_text(config_dir, "\n".join(lines) + "\n")
    problem = only_problem(config_dir)
    assert "dev.yaml: " in problem, problem
    assert f"expand to more than {MAX_EXPANDED_VALUES:,} values" in problem, problem


def test_an_alias_inside_its_own_value_is_refused(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    _append_text(config_dir, "x-loop: &loop\n  - *loop\n")
    assert "an alias refers to a value that contains it" in only_problem(config_dir)


def test_a_file_over_the_size_bound_is_refused_unread(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    _append_text(config_dir, "# " + "x" * MAX_FILE_BYTES + "\n")
    assert f"larger than {MAX_FILE_BYTES // 1024} KiB" in only_problem(config_dir)


def test_deep_nesting_is_refused_not_raised(config_copy: EditConfig) -> None:
    config_dir = config_copy()
    _append_text(config_dir, "x-deep: " + "[" * 5000 + "]" * 5000 + "\n")
    problem = only_problem(config_dir)
    assert "nested too deeply" in problem or "not valid YAML" in problem, problem
