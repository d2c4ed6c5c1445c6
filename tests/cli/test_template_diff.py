"""The offline template diff: reading cloud assemblies, judging replacements from the cfn-lint schemas,
flagging data loss, and the diff command's exit codes and reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from platform_cli.diff_command import EXIT_DANGEROUS, EXIT_OK, EXIT_USAGE, main
from platform_cli.template_diff import (
    ROOT_ENVIRONMENT,
    ChangeKind,
    ResourceChange,
    create_only_paths,
    dangerous,
    diff_assemblies,
    diff_templates,
    load_assembly,
    note,
    render_markdown,
    render_text,
)

Template = dict[str, Any]

KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/1111"
OTHER_KEY_ARN = "arn:aws:kms:eu-west-1:111111111111:key/2222"


def domain(kms_key: str = KEY_ARN) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Domain",
        "Properties": {
            "AuthMode": "IAM",
            "DomainName": "dev-studio",
            "KmsKeyId": kms_key,
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::111111111111:role/studio"},
            "SubnetIds": ["subnet-1"],
            "VpcId": "vpc-1",
        },
        "Metadata": {"aws:cdk:path": "dev/Studio/Domain"},
    }


def user_profile(name: str) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::UserProfile",
        "Properties": {"DomainId": {"Fn::GetAtt": ["Domain", "DomainId"]}, "UserProfileName": name},
    }


def space(sharing: str = "Private") -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Space",
        "Properties": {
            "DomainId": {"Fn::GetAtt": ["Domain", "DomainId"]},
            "SpaceName": "alice-space",
            "SpaceSharingSettings": {"SharingType": sharing},
            "OwnershipSettings": {"OwnerUserProfileName": "alice"},
        },
    }


def bucket(**attributes: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::S3::Bucket",
        "Properties": {"VersioningConfiguration": {"Status": "Enabled"}},
        **attributes,
    }


def pipeline(steps: list[str]) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Pipeline",
        "Properties": {
            "PipelineName": "dev-train",
            "RoleArn": "arn:aws:iam::111111111111:role/pipeline",
            "PipelineDefinition": {"PipelineDefinitionBody": json.dumps({"Steps": steps})},
        },
    }


def template(**resources: dict[str, Any]) -> Template:
    return {
        "Resources": {
            "CDKMetadata": {"Type": "AWS::CDK::Metadata", "Properties": {"Analytics": "v2:abc"}},
            **resources,
        },
        "Parameters": {"BootstrapVersion": {"Type": "AWS::SSM::Parameter::Value<String>"}},
    }


def write_assembly(root: Path, environments: dict[str, dict[str, Template]]) -> Path:
    """A cdk.out like the app's: one nested assembly per Stage, stacks named like `dev/Studio`."""
    root.mkdir(parents=True)
    root_artifacts: dict[str, Any] = {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}
    for environment, stacks in environments.items():
        directory = f"assembly-{environment}"
        root_artifacts[directory] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": directory, "displayName": environment},
        }
        (root / directory).mkdir()
        artifacts: dict[str, Any] = {}
        for stack, body in stacks.items():
            artifact_id = f"{environment}{stack}0A1B2C3D"
            artifacts[f"{artifact_id}.assets"] = {"type": "cdk:asset-manifest", "properties": {}}
            artifacts[artifact_id] = {
                "type": "aws:cloudformation:stack",
                "environment": "aws://111111111111/eu-west-1",
                "properties": {"templateFile": f"{artifact_id}.template.json"},
                "displayName": f"{environment}/{stack}",
            }
            (root / directory / f"{artifact_id}.template.json").write_text(json.dumps(body))
        (root / directory / "manifest.json").write_text(
            json.dumps({"version": "55.0.0", "artifacts": artifacts})
        )
    (root / "manifest.json").write_text(json.dumps({"version": "55.0.0", "artifacts": root_artifacts}))
    return root


def assemblies(tmp_path: Path, base: Template, head: Template, stack: str = "Studio") -> tuple[Path, Path]:
    return (
        write_assembly(tmp_path / "base", {"dev": {stack: base}}),
        write_assembly(tmp_path / "head", {"dev": {stack: head}}),
    )


def only(changes: list[ResourceChange]) -> ResourceChange:
    assert len(changes) == 1, changes
    return changes[0]


# --- schemas --------------------------------------------------------------------------------------------


def test_create_only_properties_of_the_domain_come_from_the_cfn_lint_schema() -> None:
    paths = create_only_paths("AWS::SageMaker::Domain")

    assert {"/properties/KmsKeyId", "/properties/AuthMode", "/properties/DomainName"} <= set(paths)
    assert create_only_paths("Custom::Unknown") == ()


# --- reading assemblies ---------------------------------------------------------------------------------


def test_load_assembly_reads_nested_manifests_by_environment_and_display_name(tmp_path: Path) -> None:
    studio = template(Domain=domain())
    data = template(Bucket=bucket())
    root = write_assembly(
        tmp_path / "cdk.out", {"dev": {"Studio": studio, "Data": data}, "prod": {"Data": data}}
    )

    loaded = load_assembly(root)

    assert loaded == {"dev": {"dev/Studio": studio, "dev/Data": data}, "prod": {"prod/Data": data}}


def test_load_assembly_falls_back_to_template_file_names(tmp_path: Path) -> None:
    (tmp_path / "assembly-dev").mkdir()
    (tmp_path / "assembly-dev" / "devData1234.template.json").write_text(json.dumps(template()))
    (tmp_path / "Root.template.json").write_text(json.dumps(template()))

    loaded = load_assembly(tmp_path)

    assert set(loaded) == {ROOT_ENVIRONMENT, "dev"}
    assert set(loaded["dev"]) == {"dev/devData1234"}
    assert set(loaded[ROOT_ENVIRONMENT]) == {"Root"}


# --- diffing and judging --------------------------------------------------------------------------------


def test_an_added_user_profile_is_added_and_nothing_is_replaced(tmp_path: Path, capsys: Any) -> None:
    base = template(Domain=domain(), Alice=user_profile("alice"))
    head = template(Domain=domain(), Alice=user_profile("alice"), Bob=user_profile("bob"))

    change = only(diff_templates(base, head))

    assert (change.kind, change.logical_id, change.resource_type) == (
        ChangeKind.ADDED,
        "Bob",
        "AWS::SageMaker::UserProfile",
    )
    assert dangerous(change) is None
    assert main([str(path) for path in assemblies(tmp_path, base, head)]) == EXIT_OK
    output = capsys.readouterr().out
    assert "Bob (AWS::SageMaker::UserProfile)" in output
    assert "No dangerous changes." in output


def test_a_changed_domain_kms_key_replaces_the_domain_and_is_dangerous(tmp_path: Path, capsys: Any) -> None:
    base, head = template(Domain=domain(KEY_ARN)), template(Domain=domain(OTHER_KEY_ARN))

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REPLACED
    assert change.properties == ("KmsKeyId",)
    assert change.replacing == ("KmsKeyId",)
    reason = dangerous(change)
    assert reason is not None and "Studio domain" in reason and "KmsKeyId" in reason

    base_dir, head_dir = assemblies(tmp_path, base, head)
    assert main([str(base_dir), str(head_dir)]) == EXIT_DANGEROUS
    assert "DANGER: replaces the Studio domain" in capsys.readouterr().out

    acknowledged = ["--acknowledge-data-loss", "domain rebuilt with the new key, EFS backed up"]
    assert main([str(base_dir), str(head_dir), *acknowledged]) == EXIT_OK
    assert "Data loss acknowledged: domain rebuilt with the new key, EFS backed up" in capsys.readouterr().out


def test_a_renamed_bucket_logical_id_is_a_dangerous_removal_and_an_addition() -> None:
    base, head = template(ArtifactsBucket=bucket()), template(ArtifactBucket=bucket())

    changes = diff_templates(base, head)

    assert [(change.kind, change.logical_id) for change in changes] == [
        (ChangeKind.ADDED, "ArtifactBucket"),
        (ChangeKind.REMOVED, "ArtifactsBucket"),
    ]
    added, removed = changes
    assert dangerous(added) is None
    assert dangerous(removed) == "deletes the S3 bucket (its objects)"


def test_a_removed_bucket_with_deletion_policy_retain_is_kept_not_dangerous(
    tmp_path: Path, capsys: Any
) -> None:
    base = template(Bucket=bucket(DeletionPolicy="Retain", UpdateReplacePolicy="Retain"))
    head = template()

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REMOVED
    assert dangerous(change) is None
    assert note(change) == "orphaned, data kept (DeletionPolicy Retain)"
    assert main([str(path) for path in assemblies(tmp_path, base, head, stack="Data")]) == EXIT_OK
    assert "orphaned, data kept" in capsys.readouterr().out


def test_a_changed_pipeline_definition_is_modified_not_replaced() -> None:
    base = template(Pipeline=pipeline(["Train"]))
    head = template(Pipeline=pipeline(["Process", "Train"]))

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.MODIFIED
    assert change.properties == ("PipelineDefinition",)
    assert change.replacing == ()
    assert dangerous(change) is None


def test_a_changed_space_sharing_setting_replaces_the_space_and_is_dangerous() -> None:
    change = only(diff_templates(template(Space=space("Private")), template(Space=space("Shared"))))

    assert change.kind is ChangeKind.REPLACED
    assert change.replacing == ("SpaceSharingSettings",)
    reason = dangerous(change)
    assert reason is not None and "Studio space" in reason


def test_a_nested_create_only_path_replaces_only_when_its_value_differs() -> None:
    base = domain()
    base["Properties"]["DomainSettings"] = {
        "RStudioServerProDomainSettings": {"DefaultResourceSpec": {"InstanceType": "system"}},
        "SecurityGroupIds": ["sg-1"],
    }
    sibling_changed = copy.deepcopy(base)
    sibling_changed["Properties"]["DomainSettings"]["SecurityGroupIds"] = ["sg-2"]
    nested_changed = copy.deepcopy(base)
    nested_changed["Properties"]["DomainSettings"]["RStudioServerProDomainSettings"][
        "DefaultResourceSpec"
    ] = {}

    modified = only(diff_templates(template(Domain=base), template(Domain=sibling_changed)))
    replaced = only(diff_templates(template(Domain=base), template(Domain=nested_changed)))

    assert (modified.kind, modified.properties) == (ChangeKind.MODIFIED, ("DomainSettings",))
    assert (replaced.kind, replaced.replacing) == (
        ChangeKind.REPLACED,
        ("DomainSettings/RStudioServerProDomainSettings/DefaultResourceSpec",),
    )


def test_log_groups_are_stateful_only_with_retention_and_metadata_is_ignored() -> None:
    kept = {"Type": "AWS::Logs::LogGroup", "Properties": {"RetentionInDays": 365}}
    unset = {"Type": "AWS::Logs::LogGroup", "Properties": {}}
    moved = copy.deepcopy(domain())
    moved["Metadata"] = {"aws:cdk:path": "dev/Studio/Elsewhere"}

    changes = diff_templates(template(Kept=kept, Unset=unset, Domain=domain()), template(Domain=moved))

    assert {change.logical_id: dangerous(change) is not None for change in changes} == {
        "Kept": True,
        "Unset": False,
    }


def test_a_stack_only_in_the_base_is_wholly_removed() -> None:
    base = {"dev": {"dev/Data": template(Bucket=bucket())}}

    changes = diff_assemblies(base, {"dev": {}})

    assert [change.kind for change in changes["dev"]["dev/Data"]] == [ChangeKind.REMOVED]


# --- reports and the command ----------------------------------------------------------------------------


def test_markdown_has_a_table_per_stack_and_the_warning(tmp_path: Path) -> None:
    base = template(Domain=domain(KEY_ARN), Pipeline=pipeline(["Train"]))
    head = template(Domain=domain(OTHER_KEY_ARN), Pipeline=pipeline(["Train", "Evaluate"]))
    base_dir, head_dir = assemblies(tmp_path, base, head)
    report = tmp_path / "diff.md"

    assert main([str(base_dir), str(head_dir), "--markdown", str(report)]) == EXIT_DANGEROUS

    markdown = report.read_text()
    assert "> [!WARNING]" in markdown
    assert "**1 dangerous change(s)**" in markdown
    assert "### dev" in markdown
    assert "#### dev/Studio" in markdown
    assert "| | Change | Logical ID | Type | Properties | Note |" in markdown
    assert "| :warning: | replaced | `Domain` | `AWS::SageMaker::Domain` | KmsKeyId |" in markdown
    assert "|  | modified | `Pipeline` | `AWS::SageMaker::Pipeline` | PipelineDefinition |  |" in markdown


def test_reports_without_changes_say_so() -> None:
    assert render_text({}) == "No resource changes.\n"
    assert "No resource changes." in render_markdown({})
    assert "> [!WARNING]" not in render_markdown({})


def test_usage_errors_exit_2(tmp_path: Path, capsys: Any) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()

    assert main([str(tmp_path / "missing"), str(empty)]) == EXIT_USAGE
    assert "is not a directory" in capsys.readouterr().err
    assert main([str(empty), str(empty)]) == EXIT_USAGE
    assert "holds no stack templates" in capsys.readouterr().err
    assert main([str(empty), str(empty), "--acknowledge-data-loss", " "]) == EXIT_USAGE
    assert main([]) == EXIT_USAGE


@pytest.mark.parametrize("argv", [["--help"]])
def test_help_exits_0(argv: list[str], capsys: Any) -> None:
    assert main(argv) == EXIT_OK
    assert "BASE_CDK_OUT" in capsys.readouterr().out
