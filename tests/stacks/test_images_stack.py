"""Images: repositories shared with exactly the serving accounts, push only from the build role, Studio
images attached to their domains."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template

from platform_config import PlatformConfig, naming
from tests.conftest import SynthesizedApp

PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _image_environments(platform: PlatformConfig) -> list[str]:
    return [name for name, environment in platform.environments.items() if environment.images is not None]


def _repositories(template: Template) -> dict[str, dict[str, Any]]:
    return {
        resource["Properties"]["RepositoryName"]: resource["Properties"]
        for resource in template.find_resources("AWS::ECR::Repository").values()
    }


def test_only_environments_with_images_get_the_image_stacks(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    with_images = _image_environments(sample_platform)
    assert with_images == ["dev"]
    for name, stage in synthesized.stages.items():
        assert (stage.images is not None) == (name in with_images)
        assert (stage.image_build is not None) == (name in with_images)


def test_repositories_are_hardened_as_configured(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None
    repositories = _repositories(synthesized.template("dev/Images"))
    assert sorted(repositories) == sorted(repository.name for repository in images.repositories)
    for config in images.repositories:
        properties = repositories[config.name]
        assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert properties["ImageTagMutability"] == "IMMUTABLE"
        assert properties["EncryptionConfiguration"]["EncryptionType"] == "KMS"
        assert "ImagesKey" in json.dumps(properties["EncryptionConfiguration"]["KmsKey"])
        rules = json.loads(properties["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
        assert [rule["selection"] for rule in rules] == [
            {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countNumber": config.expire_untagged_after_days,
                "countUnit": "days",
            },
            {
                "tagStatus": "tagged",
                "tagPatternList": ["*"],
                "countType": "imageCountMoreThan",
                "countNumber": config.keep_tagged_images,
            },
        ]


def _serving_roles(platform: PlatformConfig, environment: str) -> list[str]:
    return sorted(
        naming.role_arn(platform.environments[name], naming.serving_execution_role_name(name))
        for name in platform.environments[environment].serves_environments
    )


def test_repository_policies_name_exactly_the_served_accounts_and_the_build_role(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    dev = sample_platform.environments["dev"]
    served = sorted(sample_platform.account_of(name) for name in dev.serves_environments)
    assert served == ["220000000002", "330000000003"]
    build_role = f"arn:aws:iam::{dev.account_id}:role/{naming.image_build_role_name('dev')}"
    for name, properties in _repositories(synthesized.template("dev/Images")).items():
        statements = {s["Sid"]: s for s in properties["RepositoryPolicyText"]["Statement"]}
        assert set(statements) == {
            "ServingRolesPull",
            "SageMakerPullForThePlatformsAccounts",
            "PushOnlyFromTheBuildRole",
        }, name
        pull = statements["ServingRolesPull"]
        assert sorted(pull["Principal"]["AWS"]) == [f"arn:aws:iam::{account}:root" for account in served]
        # Within those accounts, exactly their serving roles.
        assert pull["Condition"] == {
            "ArnEquals": {"aws:PrincipalArn": _serving_roles(sample_platform, "dev")}
        }
        assert sorted(pull["Action"]) == PULL
        sagemaker = statements["SageMakerPullForThePlatformsAccounts"]
        assert sagemaker["Principal"] == {"Service": "sagemaker.amazonaws.com"}
        assert sagemaker["Condition"] == {
            "StringEquals": {"aws:SourceAccount": sorted([dev.account_id, *served])}
        }
        deny = statements["PushOnlyFromTheBuildRole"]
        assert (deny["Effect"], deny["Principal"]) == ("Deny", {"AWS": "*"})
        assert "ecr:PutImage" in deny["Action"]
        assert deny["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": build_role}}


def test_the_build_role_the_policies_name_is_the_one_the_build_project_uses(
    synthesized: SynthesizedApp,
) -> None:
    roles = synthesized.template("dev/ImageBuild").find_resources("AWS::IAM::Role")
    names = [role["Properties"].get("RoleName") for role in roles.values()]
    assert naming.image_build_role_name("dev") in names


def test_serving_roles_may_decrypt_images_only_through_ecr(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    keys = synthesized.template("dev/Images").find_resources("AWS::KMS::Key")
    (key,) = keys.values()
    assert key["Properties"]["EnableKeyRotation"] is True
    (statement,) = [
        s
        for s in key["Properties"]["KeyPolicy"]["Statement"]
        if s.get("Sid", "").startswith("OtherAccountsDecrypt")
    ]
    assert sorted(statement["Principal"]["AWS"]) == [
        "arn:aws:iam::220000000002:root",
        "arn:aws:iam::330000000003:root",
    ]
    assert statement["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": _serving_roles(sample_platform, "dev")},
        "StringEquals": {"kms:ViaService": "ecr.eu-west-1.amazonaws.com"},
    }


def test_each_repository_uri_is_published_for_the_build_command(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None
    parameters = {
        p["Properties"]["Name"]: p["Properties"]["Value"]
        for p in synthesized.template("dev/Images").find_resources("AWS::SSM::Parameter").values()
    }
    assert sorted(parameters) == sorted(
        naming.repository_parameter("dev", r.name) for r in images.repositories
    )


def test_studio_images_are_pinned_and_offered_by_their_domains(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    images = sample_platform.environments["dev"].images
    assert images is not None and images.studio_images
    stage = synthesized.stages["dev"]
    template = synthesized.template("dev/Images")
    versions = template.find_resources("AWS::SageMaker::ImageVersion")
    assert len(versions) == len(images.studio_images)
    for name, config in images.studio_images.items():
        assert config.studio_image is not None
        (version,) = [v for v in versions.values() if v["Properties"]["ImageName"] == name]
        # <account>.dkr.ecr.<region>.<suffix>/<repository><:tag or @digest>
        parts = version["Properties"]["BaseImage"]["Fn::Join"][1]
        assert parts[-1] == config.studio_image.reference
        assert stage.images is not None
        assert parts[-2] == stage.images.resolve(stage.images.repositories[name].repository_name)
        template.has_resource_properties(
            "AWS::SageMaker::AppImageConfig", {"AppImageConfigName": f"{name}-jupyterlab"}
        )
    studio = sample_platform.environments["dev"].studio
    assert studio is not None
    for domain in studio.domains:
        stack = stage.studio[domain.name]
        properties = Template.from_stack(stack).find_resources("AWS::SageMaker::Domain")
        ((_, resource),) = properties.items()
        offered = resource["Properties"]["DefaultUserSettings"]["JupyterLabAppSettings"].get(
            "CustomImages", []
        )
        assert offered == [
            {"ImageName": name, "AppImageConfigName": f"{name}-jupyterlab"} for name in domain.custom_images
        ]
        assert (stage.images in stack.dependencies) == bool(domain.custom_images)


@pytest.mark.parametrize("stack_id", ["Images"])
def test_repositories_are_deleted_only_in_dev(synthesized: SynthesizedApp, stack_id: str) -> None:
    stack = synthesized.stages["dev"].node.find_child(stack_id)
    template = Template.from_stack(stack)  # type: ignore[arg-type]
    for resource in template.find_resources("AWS::ECR::Repository").values():
        assert resource["DeletionPolicy"] == "Delete"
