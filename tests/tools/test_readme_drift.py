"""What the README and docs/configuration.md say about the code, checked against the code: the stack diagram
against the cloud assembly's dependencies, the execution-policy figures against tools/bootstrap_policy, the
first-deploy plan against platform_cli.first_deploy_plan, the configuration reference's contents against its
headings, and each recipe's YAML against a synth."""

from __future__ import annotations

import copy
import io
import itertools
import json
import re
import shutil
from contextlib import redirect_stderr
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk.assertions import Template

from platform_cli.first_deploy_plan import first_deploy_plan, render
from platform_config import PlatformConfig, load_platform
from stacks.platform_stage import build_app
from tests.conftest import CONFIG_DIR, ROOT, SynthesizedApp
from tools.bootstrap_policy import main as bootstrap_policy

README = (ROOT / "README.md").read_text()
CONFIGURATION_DOC = (ROOT / "docs" / "configuration.md").read_text()


# --- the stack diagram ------------------------------------------------------------------------------


def _mermaid() -> str:
    (block,) = re.findall(r"```mermaid\n(.*?)```", README, re.DOTALL)
    return str(block)


def _diagram() -> tuple[set[str], set[tuple[str, str]]]:
    """The stacks the diagram draws, and its solid arrows as (used stack, using stack)."""
    block = _mermaid()
    labels = dict(re.findall(r'(\w+)\["([^"]*)"\]', block))
    stack_of = {
        node: label.split("<br/>")[0].removesuffix(" (stateful)")
        for node, label in labels.items()
        if "/" in label.split("<br/>")[0]
    }
    edges = set()
    for line in block.splitlines():
        if "-->" not in line or "-.->" in line:
            continue
        nodes = [part.split("[", 1)[0].strip() for part in line.split("-->")]
        edges |= {(stack_of[a], stack_of[b]) for a, b in itertools.pairwise(nodes)}
    return set(stack_of.values()), edges


def _manifest_dependencies(outdir: Path) -> tuple[set[str], set[tuple[str, str]]]:
    stacks: set[str] = set()
    edges: set[tuple[str, str]] = set()
    for manifest_path in sorted(outdir.glob("assembly-*/manifest.json")):
        artifacts = json.loads(manifest_path.read_text())["artifacts"]
        names = {
            artifact_id: artifact["displayName"]
            for artifact_id, artifact in artifacts.items()
            if artifact["type"] == "aws:cloudformation:stack"
        }
        stacks |= set(names.values())
        for artifact_id, name in names.items():
            edges |= {
                (names[dependency], name)
                for dependency in artifacts[artifact_id].get("dependencies", [])
                if dependency in names
            }
    return stacks, edges


def test_the_diagram_draws_every_stack_and_exactly_the_assemblys_dependencies(
    synthesized: SynthesizedApp,
) -> None:
    drawn_stacks, drawn_edges = _diagram()
    stacks, edges = _manifest_dependencies(synthesized.outdir)

    assert sorted(stacks - drawn_stacks) == [], "stacks missing from README's diagram"
    assert sorted(drawn_stacks - stacks) == [], "README's diagram draws stacks the app does not have"
    assert sorted(edges - drawn_edges) == [], "dependencies missing from README's diagram (solid arrows)"
    assert sorted(drawn_edges - edges) == [], "README's diagram draws arrows that are no dependency"


def test_the_diagram_parser_reads_inline_nodes_and_skips_dotted_links() -> None:
    stacks, edges = _diagram()
    assert ("staging/Data", "staging/Network") in edges  # `sData[...] --> sNet[...]` on one line
    assert not any(a.startswith("dev/") and b.startswith("staging/") for a, b in edges)
    assert "dev/Data" in stacks


# --- the execution-policy figures --------------------------------------------------------------------


def test_the_readmes_execution_policy_figures_are_the_tools(
    synthesized: SynthesizedApp, tmp_path: Path
) -> None:
    (shown,) = re.findall(r"^# (staging \(aws://.*\(limit \d+\))$", README, re.MULTILINE)
    output = io.StringIO()
    with redirect_stderr(output):
        code = bootstrap_policy(
            ["--env", "staging", "--cdk-out", str(synthesized.outdir), "--out", str(tmp_path)]
        )
    assert code == 0
    # The figures, not the account: the README shows config/'s, the tests build from their fixture's.
    account = re.compile(r"aws://\d{12}/")
    printed = output.getvalue().strip()
    assert account.sub("aws://<account>/", printed) == account.sub("aws://<account>/", shown)


# --- docs/configuration.md's contents ----------------------------------------------------------------


def _github_anchor(heading: str) -> str:
    text = re.sub(r"&[a-z]+;", "", heading.lower())
    return re.sub(r"[^a-z0-9 _-]", "", text).replace(" ", "-")


def test_the_configuration_reference_lists_every_section_with_a_working_link() -> None:
    headings = re.findall(r"^## (.+)$", CONFIGURATION_DOC, re.MULTILINE)
    contents = re.findall(r"^- \[(.+?)\]\(#(.+?)\)$", CONFIGURATION_DOC.split("\n## ", 1)[0], re.MULTILINE)

    assert [anchor for _, anchor in contents] == [_github_anchor(heading) for heading in headings]


def test_github_anchors_drop_punctuation_and_join_words_with_hyphens() -> None:
    assert _github_anchor("Checked against AWS's own constraints") == "checked-against-awss-own-constraints"
    assert _github_anchor("pipelines[]") == "pipelines"
    assert _github_anchor("Top level: one environment") == "top-level-one-environment"


# --- recipes -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    environment: str
    path: str  # e.g. studio.domains[ml-research].users
    items: list[dict[str, Any]]


def _recipes() -> list[Recipe]:
    section = README.split("### Recipes", 1)[1].split("\n## ", 1)[0]
    recipes = []
    for block in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL):
        header = re.match(r"# config/([a-z0-9-]+)\.yaml: (\S+)\n", block)
        assert header, f"a recipe must start with '# config/<env>.yaml: <path>': {block!r}"
        recipes.append(Recipe(header.group(1), header.group(2), yaml.safe_load(block)))
    return recipes


RECIPES = _recipes()


def _apply(data: dict[str, Any], recipe: Recipe) -> None:
    target: Any = data
    for part in recipe.path.split("."):
        key, _, selected = part.partition("[")
        target = target[key]
        if selected:
            (target,) = [item for item in target if item["name"] == selected.rstrip("]")]
    target.extend(copy.deepcopy(recipe.items))


def _config_with(tmp_path: Path, recipes: list[Recipe]) -> Path:
    target = tmp_path / "config"
    shutil.copytree(CONFIG_DIR, target)
    for recipe in recipes:
        path = target / f"{recipe.environment}.yaml"
        data = yaml.safe_load(path.read_text())
        _apply(data, recipe)
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def test_the_readme_has_the_four_recipes() -> None:
    assert [recipe.path for recipe in RECIPES] == [
        "studio.domains[ml-research].users",
        "studio.domains[ml-research].spaces",
        "images.repositories",
        "pipelines",
    ]


@pytest.mark.parametrize("recipe", RECIPES, ids=[recipe.path for recipe in RECIPES])
def test_each_recipe_loads_on_its_own(recipe: Recipe, tmp_path: Path) -> None:
    platform = load_platform(_config_with(tmp_path, [recipe]))
    assert recipe.environment in platform.environments


# What each recipe adds, and the stack it must appear in.
ADDED = {
    "studio.domains[ml-research].users": ("Studio-ml-research", "AWS::SageMaker::UserProfile", "dave"),
    "studio.domains[ml-research].spaces": ("Studio-ml-research", "AWS::SageMaker::Space", "alice-editor"),
    "images.repositories": ("Images", "AWS::ECR::Repository", "xgboost-serving"),
    "pipelines": ("Pipelines", "AWS::SageMaker::Pipeline", "churn-model-weekly"),
}


def test_the_recipes_synthesize_into_the_stacks_they_change(
    tmp_path: Path, cdk_context: dict[str, Any]
) -> None:
    platform = load_platform(_config_with(tmp_path, RECIPES))
    _, stages = build_app(platform, environments=["dev"], context=cdk_context, outdir=str(tmp_path / "out"))

    for recipe in RECIPES:
        stack_id, resource_type, name = ADDED[recipe.path]
        stack = stages["dev"].node.find_child(stack_id)
        assert isinstance(stack, cdk.Stack)
        resources = Template.from_stack(stack).find_resources(resource_type)
        assert any(name in json.dumps(resource["Properties"]) for resource in resources.values()), (
            f"{recipe.path}: no {resource_type} naming {name} in dev/{stack_id}"
        )


def test_the_readmes_first_deploy_plan_is_the_tools(sample_platform: PlatformConfig) -> None:
    block = re.search(r"<!-- first-deploy-plan -->\n```text\n(.*?)```\n", README, re.DOTALL)
    assert block is not None, "README.md has no first-deploy-plan block"
    # The plan, not the accounts: the README shows config/'s, the tests plan their fixture's.
    account = re.compile(r"(?<!\d)\d{12}(?!\d)")
    planned = render(first_deploy_plan(sample_platform), sample_platform)
    assert account.sub("<account>", block.group(1)) == account.sub("<account>", planned)
