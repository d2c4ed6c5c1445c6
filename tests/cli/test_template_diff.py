"""The offline template diff: reading cloud assemblies, judging replacements from the cfn-lint schemas,
flagging data loss and name collisions, before and after values, and the diff command's exit codes and
reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from platform_cli.cfn_schemas import resource_schema
from platform_cli.diff_command import EXIT_COLLISION, EXIT_DANGEROUS, EXIT_OK, EXIT_USAGE, main
from platform_cli.template_diff import (
    ABSENT,
    MAX_VALUE_CHANGES,
    NAME_PROPERTIES,
    ROOT_ENVIRONMENT,
    ChangeKind,
    ResourceChange,
    collision,
    collision_fix,
    create_only_paths,
    dangerous,
    diff_assemblies,
    diff_templates,
    load_assembly,
    name_properties,
    note,
    render_markdown,
    render_text,
    requires_replacement,
    value_changes,
    value_pair,
)

Template = dict[str, Any]

KEY_ARN = "arn:aws:kms:eu-west-1:110000000001:key/1111"
OTHER_KEY_ARN = "arn:aws:kms:eu-west-1:110000000001:key/2222"


def domain(kms_key: str = KEY_ARN) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Domain",
        "Properties": {
            "AuthMode": "IAM",
            "DomainName": "dev-studio",
            "KmsKeyId": kms_key,
            "DefaultUserSettings": {"ExecutionRole": "arn:aws:iam::110000000001:role/studio"},
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
            "RoleArn": "arn:aws:iam::110000000001:role/pipeline",
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
                "environment": "aws://110000000001/eu-west-1",
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


def test_a_changed_space_sharing_setting_replaces_the_space_under_its_fixed_name() -> None:
    """The deploy fails on the name before anything is deleted: a collision, not data loss."""
    change = only(diff_templates(template(Space=space("Private")), template(Space=space("Shared"))))

    assert change.kind is ChangeKind.REPLACED
    assert change.replacing == ("SpaceSharingSettings",)
    assert change.colliding == ("DomainId", "SpaceName")
    assert dangerous(change) is None
    fix = collision_fix(change)
    assert fix.endswith("Renaming or removing a Studio space (its storage volume) loses its data")


def test_a_replaced_space_whose_name_changes_is_dangerous() -> None:
    renamed = space("Shared")
    renamed["Properties"]["SpaceName"] = "alice-shared"

    change = only(diff_templates(template(Space=space("Private")), template(Space=renamed)))

    reason = dangerous(change)
    assert reason is not None and "Studio space" in reason and collision(change) is None


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


# --- name collisions ------------------------------------------------------------------------------------


def model_package_group(description: str, name: Any = "churn-model") -> dict[str, Any]:
    properties: dict[str, Any] = {"ModelPackageGroupDescription": description}
    if name is not None:
        properties["ModelPackageGroupName"] = name
    return {"Type": "AWS::SageMaker::ModelPackageGroup", "Properties": properties}


def repository(kms_key: str, name: str | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"EncryptionConfiguration": {"EncryptionType": "KMS", "KmsKey": kms_key}}
    if name is not None:
        properties["RepositoryName"] = name
    return {"Type": "AWS::ECR::Repository", "Properties": properties}


def test_the_properties_that_name_a_resource_come_from_the_schema() -> None:
    assert name_properties("AWS::SageMaker::Space") == ("DomainId", "SpaceName")
    assert name_properties("AWS::SageMaker::UserProfile") == ("UserProfileName", "DomainId")
    assert name_properties("AWS::ECR::Repository") == ("RepositoryName",)
    assert name_properties("AWS::IAM::Role") == ("RoleName",)
    # Identified by a generated ARN: the property called <Type>Name names it.
    assert name_properties("AWS::SageMaker::ModelPackageGroup") == ("ModelPackageGroupName",)
    assert name_properties("AWS::Events::Rule") == ("Name",)
    # A version of an image is not named by the image's name; a key has no name at all.
    assert name_properties("AWS::SageMaker::ImageVersion") == ()
    assert name_properties("AWS::KMS::Key") == ()
    assert name_properties("AWS::SageMaker::Domain") == ()
    assert name_properties("Custom::Unknown") == ()


@pytest.mark.parametrize("resource_type", sorted(NAME_PROPERTIES))
def test_each_explicit_name_entry_is_needed_and_names_schema_properties(resource_type: str) -> None:
    schema = resource_schema(resource_type)
    identifiers = [path.removeprefix("/properties/") for path in schema["primaryIdentifier"]]
    generated = {path.removeprefix("/properties/") for path in schema.get("readOnlyProperties", [])}

    assert set(identifiers) & generated, f"{resource_type}: the schema's primaryIdentifier can be used"
    assert set(NAME_PROPERTIES[resource_type]) <= set(schema["properties"])


def test_a_changed_description_of_a_named_group_is_a_name_collision(tmp_path: Path, capsys: Any) -> None:
    base = template(Group=model_package_group("Churn classifier."))
    head = template(Group=model_package_group("Churn classifier, retrained weekly."))

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REPLACED
    assert change.replacing == ("ModelPackageGroupDescription",)
    assert change.colliding == ("ModelPackageGroupName",)
    reason = collision(change)
    assert reason is not None and reason.startswith("deploy will fail: name collision")
    assert 'ModelPackageGroupName "churn-model"' in reason
    fix = collision_fix(change)
    assert "keep the old value of ModelPackageGroupDescription" in fix
    assert "new ModelPackageGroupName" in fix and "remove the resource in one deploy" in fix

    base_dir, head_dir = assemblies(tmp_path, base, head, stack="Registry")
    assert main([str(base_dir), str(head_dir)]) == EXIT_COLLISION
    output = capsys.readouterr().out
    assert "! replaced Group (AWS::SageMaker::ModelPackageGroup)" in output
    assert "FAILS: deploy will fail: name collision" in output
    assert "FIX: keep the old value of ModelPackageGroupDescription" in output
    assert "        ~ ModelPackageGroupDescription (requires replacement)\n" in output
    assert '            - "Churn classifier."' in output
    assert '            + "Churn classifier, retrained weekly."' in output
    assert "1 change(s) will fail to deploy" in output


def test_an_acknowledgement_of_data_loss_does_not_accept_a_collision(tmp_path: Path, capsys: Any) -> None:
    """Both at once: the collision decides the exit code, and the data loss is still reported."""
    base = template(Group=model_package_group("Churn classifier."), Domain=domain(KEY_ARN))
    head = template(Group=model_package_group("Churn classifier v2."), Domain=domain(OTHER_KEY_ARN))
    base_dir, head_dir = assemblies(tmp_path, base, head)

    assert main([str(base_dir), str(head_dir)]) == EXIT_COLLISION
    plain = capsys.readouterr().out
    assert "FAILS: deploy will fail" in plain and "DANGER: replaces the Studio domain" in plain
    assert "1 dangerous change(s)" in plain

    report = tmp_path / "diff.md"
    acknowledged = ["--acknowledge-data-loss", "domain rebuilt", "--markdown", str(report)]
    assert main([str(base_dir), str(head_dir), *acknowledged]) == EXIT_COLLISION
    output = capsys.readouterr().out
    assert "A name collision cannot be acknowledged" in output
    assert "Data loss acknowledged: domain rebuilt" in output
    markdown = report.read_text()
    assert "> [!CAUTION]" in markdown and "**1 change(s) will fail to deploy**" in markdown
    assert "| :x: | replaced | `Group` |" in markdown
    assert "| :warning: | replaced | `Domain` |" in markdown


def test_a_create_only_change_without_a_fixed_name_is_a_plain_replacement(tmp_path: Path) -> None:
    base = template(Repository=repository(KEY_ARN))
    head = template(Repository=repository(OTHER_KEY_ARN))

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REPLACED
    assert change.colliding == ()
    assert collision(change) is None
    assert dangerous(change) is not None
    assert main([str(path) for path in assemblies(tmp_path, base, head, stack="Data")]) == EXIT_DANGEROUS


def test_the_same_change_to_a_named_repository_collides() -> None:
    base = template(Repository=repository(KEY_ARN, name="dev-decision-tree"))
    head = template(Repository=repository(OTHER_KEY_ARN, name="dev-decision-tree"))

    change = only(diff_templates(base, head))

    assert change.colliding == ("RepositoryName",)
    assert change.replacing == ("EncryptionConfiguration", "EncryptionConfiguration/KmsKey")


def test_a_renamed_resource_is_replaced_without_a_collision() -> None:
    base = template(Group=model_package_group("Churn classifier.", name="churn-model"))
    head = template(Group=model_package_group("Churn classifier v2.", name="churn-model-v2"))

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REPLACED
    assert collision(change) is None


def test_an_update_in_place_of_a_named_resource_does_not_collide(tmp_path: Path) -> None:
    tagged = model_package_group("Churn classifier.")
    tagged["Properties"]["Tags"] = [{"Key": "owner", "Value": "churn-team"}]

    change = only(
        diff_templates(template(Group=model_package_group("Churn classifier.")), template(Group=tagged))
    )

    assert (change.kind, change.colliding) == (ChangeKind.MODIFIED, ())
    base_dir, head_dir = assemblies(
        tmp_path, template(Group=model_package_group("Churn classifier.")), template(Group=tagged)
    )
    assert main([str(base_dir), str(head_dir)]) == EXIT_OK


def test_a_name_that_refers_to_a_replaced_resource_changes_so_it_does_not_collide() -> None:
    """A space in a domain replaced by the same deploy gets a new DomainId."""
    private, shared = space("Private"), space("Shared")

    alone = diff_templates(
        template(Domain=domain(KEY_ARN), Space=private), template(Domain=domain(), Space=shared)
    )
    with_domain = diff_templates(
        template(Domain=domain(KEY_ARN), Space=private), template(Domain=domain(OTHER_KEY_ARN), Space=shared)
    )

    assert [(change.logical_id, change.colliding) for change in alone] == [
        ("Space", ("DomainId", "SpaceName"))
    ]
    assert [(change.logical_id, change.colliding) for change in with_domain] == [
        ("Domain", ()),
        ("Space", ()),
    ]


def test_a_changed_type_is_a_replacement_without_a_collision() -> None:
    base = template(Thing={"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}})
    head = template(Thing={"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "jobs"}})

    change = only(diff_templates(base, head))

    assert change.kind is ChangeKind.REPLACED and collision(change) is None


# --- before and after values ----------------------------------------------------------------------------


def test_value_changes_name_the_leaf_paths_that_differ() -> None:
    base = pipeline(["Train"])
    head = copy.deepcopy(base)
    head["Properties"]["PipelineDefinition"] = {"PipelineDefinitionBody": json.dumps({"Steps": ["Process"]})}
    head["Properties"]["RoleArn"] = "arn:aws:iam::110000000001:role/other"
    head["DeletionPolicy"] = "Retain"

    change = only(diff_templates(template(Pipeline=base), template(Pipeline=head)))

    assert [(item.path, item.before, item.after) for item in value_changes(change)] == [
        ("PipelineDefinition.PipelineDefinitionBody.Steps[0]", "Train", "Process"),
        ("RoleArn", "arn:aws:iam::110000000001:role/pipeline", "arn:aws:iam::110000000001:role/other"),
        ("@DeletionPolicy", ABSENT, "Retain"),
    ]


def test_long_values_are_cut_around_where_they_differ() -> None:
    before = "x" * 300 + "old ending"
    after = "x" * 300 + "new ending"

    old, new = value_pair(before, after, width=60)

    assert len(old) <= 60 and len(new) <= 60
    assert old.startswith("…") and "old ending" in old
    assert new.startswith("…") and "new ending" in new
    assert value_pair("short", ["a", "list"]) == ('"short"', '["a", "list"]')


def test_many_changed_values_are_capped_with_a_count(capsys: Any, tmp_path: Path) -> None:
    count = MAX_VALUE_CHANGES + 3
    base = pipeline([f"Step{index}" for index in range(count)])
    head = pipeline([f"Step{index}b" for index in range(count)])
    base_dir, head_dir = assemblies(tmp_path, template(Pipeline=base), template(Pipeline=head))
    report = tmp_path / "diff.md"

    assert main([str(base_dir), str(head_dir), "--markdown", str(report)]) == EXIT_OK

    output = capsys.readouterr().out
    assert output.count("        ~ PipelineDefinition.PipelineDefinitionBody.Steps[") == MAX_VALUE_CHANGES
    assert "~ ... 3 more changed value(s)" in output
    markdown = report.read_text()
    assert "<details><summary>Changed values</summary>" in markdown
    assert '~ Pipeline PipelineDefinition.PipelineDefinitionBody.Steps[0]\n- "Step0"\n+ "Step0b"' in markdown


def test_an_added_resource_with_the_name_of_a_removed_one_collides(tmp_path: Path, capsys: Any) -> None:
    """A renamed construct: the new logical id is created before the old one is deleted."""
    named = bucket(DeletionPolicy="Retain")
    named["Properties"]["BucketName"] = "dev-110000000001-artifacts"
    base, head = template(ArtifactBucketC3871E62=named), template(ArtifactsF1A2B3C4=named)

    removed, added = diff_templates(base, head)  # sorted by logical id

    assert (added.kind, added.collides_with, added.colliding) == (
        ChangeKind.ADDED,
        "ArtifactBucketC3871E62",
        ("BucketName",),
    )
    assert collision(removed) is None
    reason = collision(added)
    assert (
        reason is not None
        and 'same BucketName "dev-110000000001-artifacts" as ArtifactBucketC3871E62' in reason
    )
    assert collision_fix(added).startswith("keep the logical id ArtifactBucketC3871E62")
    assert main([str(path) for path in assemblies(tmp_path, base, head, stack="Data")]) == EXIT_COLLISION
    assert "FAILS: deploy will fail: name collision" in capsys.readouterr().out


def test_an_addition_collides_only_with_a_removal_of_the_same_type_and_name() -> None:
    queue = {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs"}}
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "jobs"}}
    renamed_user = diff_templates(
        template(Alice=user_profile("alice")), template(Alicia=user_profile("alicia"))
    )
    other_type = diff_templates(template(Jobs=queue), template(JobsTopic=topic))

    assert [collision(change) for change in renamed_user + other_type] == [None] * 4


def test_only_values_under_a_replacing_create_only_path_are_marked_as_requiring_replacement() -> None:
    base = template(Repository=repository(KEY_ARN, name="dev-decision-tree"))
    head = template(Repository=repository(OTHER_KEY_ARN, name="dev-decision-tree"))
    head["Resources"]["Repository"]["Properties"]["ImageScanningConfiguration"] = {"ScanOnPush": True}

    change = only(diff_templates(base, head))

    assert [(item.path, requires_replacement(change, item.path)) for item in value_changes(change)] == [
        ("EncryptionConfiguration.KmsKey", True),
        ("ImageScanningConfiguration", False),
    ]
    assert requires_replacement(change, "EncryptionConfigurationX") is False
