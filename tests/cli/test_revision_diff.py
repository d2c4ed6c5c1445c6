"""Real pairs of revisions in a temporary git repository, synthesized offline and compared."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline_defs import render_cache
from platform_cli import diff_command, revision_diff
from platform_cli.revision_diff import ROOT, SynthError, synthesize_revisions
from platform_cli.template_diff import diff_assemblies, load_assembly
from platform_config import load_platform
from synth_checks import assembly_cache, template_validation


@pytest.fixture(scope="module")
def base_assemblies(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Path]]:
    """The base revision's assembly per commit: every test compares against the same committed tree, whose
    synth is the same bytes each time, so it is synthesized once per module (the working tree's never is)."""
    return tmp_path_factory.mktemp("base-assemblies"), {}


@pytest.fixture
def repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base_assemblies: tuple[Path, dict[str, Path]]
) -> Path:
    """A clone of this project's committed tree; only dev is synthesized, to keep the test short."""
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    for key, value in (("user.name", "test"), ("user.email", "test@example.com")):
        subprocess.run(["git", "config", key, value], cwd=clone, check=True)
    monkeypatch.setenv("PLATFORM_ENVIRONMENTS", "dev")
    folder, by_commit = base_assemblies
    synthesize = revision_diff.synthesize

    def synthesize_base_once(checkout: Path, outdir: Path, *, tools: Path = ROOT) -> None:
        # synthesize_revisions checks the base out into a clean `base-checkout` worktree: its synth depends
        # on the commit alone. The working tree (the clone itself, edited by the test) is synthesized.
        if checkout.name != "base-checkout":
            synthesize(checkout, outdir, tools=tools)
            return
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True, text=True, check=True
        ).stdout.strip()
        if commit not in by_commit:
            synthesize(checkout, folder / commit, tools=tools)
            by_commit[commit] = folder / commit
        shutil.copytree(by_commit[commit], outdir)

    monkeypatch.setattr(revision_diff, "synthesize", synthesize_base_once)
    return clone


def _changes(repository: Path, workdir: Path) -> dict[str, dict[str, list[tuple[str, str, str]]]]:
    base_out, head_out = synthesize_revisions("HEAD", workdir, repository=repository, tools=ROOT)
    by_stack = diff_assemblies(load_assembly(base_out), load_assembly(head_out))
    summary = {
        environment: {
            stack: [(str(change.kind), change.logical_id, change.resource_type) for change in changes]
            for stack, changes in stacks.items()
            if changes
        }
        for environment, stacks in by_stack.items()
    }
    assert diff_command.main([str(base_out), str(head_out)]) in (
        diff_command.EXIT_OK,
        diff_command.EXIT_DANGEROUS,
        diff_command.EXIT_COLLISION,
    )
    return summary


def test_a_user_added_changes_one_stack_and_replaces_nothing(repository: Path, tmp_path: Path) -> None:
    config = repository / "config" / "dev.yaml"
    carol = "        - name: carol\n          persona: analyst\n"
    dave = "        - name: dave\n          persona: analyst\n"
    config.write_text(config.read_text().replace(carol, carol + dave))
    changes = _changes(repository, tmp_path / "work")
    assert list(changes) == ["dev"]
    assert list(changes["dev"]) == ["dev/Studio-ml-research"]
    studio = changes["dev"]["dev/Studio-ml-research"]
    assert [(kind, resource_type) for kind, _, resource_type in studio if kind == "added"] == [
        ("added", "AWS::SageMaker::UserProfile")
    ]
    # Anything else changes in place: in a disposable environment, the Studio teardown now also waits for
    # the new profile (its DependsOn).
    assert {kind for kind, _, _ in studio} <= {"added", "modified"}


def test_a_domain_key_change_is_a_flagged_replacement(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = repository / "stacks" / "studio_stack.py"
    source = stack.read_text()
    assert "encryption_key=studio_key," in source
    stack.write_text(source.replace("encryption_key=studio_key,", "encryption_key=data_key,"))
    base_out, head_out = synthesize_revisions("HEAD", tmp_path / "work", repository=repository, tools=ROOT)
    exit_code = diff_command.main([str(base_out), str(head_out)])
    output = capsys.readouterr().out
    assert exit_code == diff_command.EXIT_DANGEROUS
    assert "AWS::SageMaker::Domain" in output and "replaced" in output


def test_a_renamed_construct_is_a_flagged_delete_and_create(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = repository / "stacks" / "data_stack.py"
    source = stack.read_text()
    assert '"ArtifactBucket",' in source
    stack.write_text(source.replace('"ArtifactBucket",', '"Artifacts",', 1))
    changes = _changes(repository, tmp_path / "work")
    kinds = {(kind, resource_type) for kind, _, resource_type in changes["dev"]["dev/Data"]}
    assert {("removed", "AWS::S3::Bucket"), ("added", "AWS::S3::Bucket")} <= kinds
    output = capsys.readouterr().out
    assert "dangerous" in output.lower()
    # The bucket's name is fixed: the new logical id cannot be created while the old bucket exists.
    assert "FAILS: deploy will fail: name collision" in output
    assert "FIX: keep the logical id ArtifactBucket" in output


def test_a_changed_pipeline_step_changes_only_the_stacks_that_apply_the_pipeline(
    repository: Path, tmp_path: Path
) -> None:
    script = repository / "pipeline_defs" / "steps" / "preprocess.py"
    script.write_text(script.read_text() + "\n# a reviewed change to the step\n")
    changes = _changes(repository, tmp_path / "work")
    assert list(changes) == ["dev"]
    # The Pipelines stack, and the Kubernetes stack where a namespace applies the same body (ADR 0017).
    dev = load_platform(repository / "config").environments["dev"]
    namespaces = dev.kubernetes.namespaces if dev.kubernetes is not None else ()
    applies = ["dev/Kubernetes"] if any(namespace.pipelines for namespace in namespaces) else []
    assert sorted(changes["dev"]) == sorted(["dev/Pipelines", *applies])
    assert all(kind == "modified" for stack in changes["dev"].values() for kind, _, _ in stack)


def test_a_changed_model_group_description_is_a_name_collision_with_its_fix(
    repository: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The description is create-only and the group's name is fixed: the deploy would fail and roll back."""
    config = repository / "config" / "dev.yaml"
    old = "      description: Customer churn classifier (decision tree) built by the churn pipeline.\n"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, old.replace("built by", "trained by")))
    base_out, head_out = synthesize_revisions("HEAD", tmp_path / "work", repository=repository, tools=ROOT)

    changes = diff_assemblies(load_assembly(base_out), load_assembly(head_out))
    (change,) = [change for stacks in changes.values() for found in stacks.values() for change in found]
    assert change.resource_type == "AWS::SageMaker::ModelPackageGroup"
    assert (change.replacing, change.colliding) == (
        ("ModelPackageGroupDescription",),
        ("ModelPackageGroupName",),
    )

    acknowledged = ["--acknowledge-data-loss", "not a data loss question"]
    assert diff_command.main([str(base_out), str(head_out), *acknowledged]) == diff_command.EXIT_COLLISION
    output = capsys.readouterr().out
    assert f"! replaced {change.logical_id} (AWS::SageMaker::ModelPackageGroup)" in output
    assert "FAILS: deploy will fail: name collision" in output and '"churn-model"' in output
    assert "FIX: keep the old value of ModelPackageGroupDescription" in output
    assert '+ "Customer churn classifier (decision tree) trained by the churn pipeline."' in output
    assert "A name collision cannot be acknowledged" in output


def test_a_head_assembly_that_is_not_one_is_refused_before_any_synth(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match=r"--head-assembly .*: no cloud assembly there \(no manifest.json\)"):
        synthesize_revisions("HEAD", tmp_path / "work", head_assembly=tmp_path / "cdk.out")


def test_a_checkout_synthesized_with_these_tools_shares_their_caches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The base revision's temporary worktree would otherwise fill, then lose, caches of its own."""
    variables = (assembly_cache.DIR_VARIABLE, render_cache.DIR_VARIABLE, template_validation.DIR_VARIABLE)
    for variable in variables:
        monkeypatch.delenv(variable, raising=False)
    tools = tmp_path / "tools"
    environment = revision_diff.cdk_environment(tools=tools)
    assert environment[assembly_cache.DIR_VARIABLE] == str(tools / ".cache" / "assembly")
    assert environment[render_cache.DIR_VARIABLE] == str(tools / ".cache" / "pipeline-definitions")
    assert environment[template_validation.DIR_VARIABLE] == str(tools / ".cache" / "template-validation")
    # A folder the caller named, or the cache turned off (empty), is kept.
    monkeypatch.setenv(assembly_cache.DIR_VARIABLE, "")
    assert revision_diff.cdk_environment(tools=tools)[assembly_cache.DIR_VARIABLE] == ""
