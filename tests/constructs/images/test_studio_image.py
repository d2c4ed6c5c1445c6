"""StudioImage: a SageMaker image pinned to one ECR image, its pull role, and a JupyterLab AppImageConfig."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.images.image_repository import ImageRepository
from constructs_lib.images.studio_image import StudioImage
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import bare_stack, logical_id, resource, synth

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/66666666-6666-6666-6666-666666666666"
REPOSITORY_NAME = "studio/jupyterlab"
REPOSITORY_ARN = f"arn:aws:ecr:eu-west-1:123456789012:repository/{REPOSITORY_NAME}"
DIGEST = "@sha256:" + "0123456789abcdef" * 4


def studio_image(
    stack: cdk.Stack,
    construct_id: str,
    *,
    image_name: str,
    image_reference: str,
    display_name: str | None = None,
    repository: ecr.IRepository | None = None,
    repository_key: kms.IKey | None = None,
) -> StudioImage:
    return StudioImage(
        stack,
        construct_id,
        image_name=image_name,
        app_image_config_name=f"{image_name}-jupyterlab",
        repository=repository
        or ecr.Repository.from_repository_name(stack, f"{construct_id}Repository", REPOSITORY_NAME),
        image_reference=image_reference,
        repository_key=repository_key or kms.Key.from_key_arn(stack, f"{construct_id}Key", KEY_ARN),
        display_name=display_name,
    )


@dataclass(frozen=True)
class Images:
    template: Template
    tagged: StudioImage  # ":v1", with a display name
    digest: StudioImage  # "@sha256:...", no display name

    def logical(self, image: str, child: str) -> str:
        found = getattr(self, image).node.find_child(child)
        return logical_id(found)

    def properties(self, image: str, child: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(image, child))["Properties"]
        return written


@pytest.fixture(scope="module")
def images(cdk_context: dict[str, Any]) -> Images:
    stack = bare_stack(cdk_context)
    tagged = studio_image(
        stack, "Tagged", image_name="data-science", image_reference=":v1", display_name="Data science"
    )
    digest = studio_image(stack, "Digest", image_name="data-science-pinned", image_reference=DIGEST)
    return Images(Template.from_stack(stack), tagged, digest)


def test_image_is_named_and_pulled_with_its_role(images: Images) -> None:
    assert images.properties("tagged", "Image") == {
        "ImageName": "data-science",
        "ImageDisplayName": "Data science",
        "ImageDescription": "Studio image data-science:v1",
        "ImageRoleArn": {"Fn::GetAtt": [logical_id(images.tagged.pull_role), "Arn"]},
    }
    assert "ImageDisplayName" not in images.properties("digest", "Image")


@pytest.mark.parametrize(
    ("image", "name", "reference"),
    [("tagged", "data-science", ":v1"), ("digest", "data-science-pinned", DIGEST)],
)
def test_version_pins_the_repository_image_as_a_kernel_image(
    images: Images, image: str, name: str, reference: str
) -> None:
    assert images.properties(image, "Version") == {
        "ImageName": name,
        "BaseImage": {
            "Fn::Join": [
                "",
                [
                    "123456789012.dkr.ecr.eu-west-1.",
                    {"Ref": "AWS::URLSuffix"},
                    f"/{REPOSITORY_NAME}{reference}",
                ],
            ]
        },
        "JobType": "NOTEBOOK_KERNEL",
    }


@pytest.mark.parametrize("image", ["tagged", "digest"])
def test_version_is_created_after_its_image(images: Images, image: str) -> None:
    # The version names the image by a literal name, not a reference: the order must be explicit.
    version = resource(images.template, images.logical(image, "Version"))
    assert images.logical(image, "Image") in version["DependsOn"]


def test_jupyterlab_app_image_config_has_the_name_given(images: Images) -> None:
    assert images.properties("tagged", "AppImageConfig") == {
        "AppImageConfigName": "data-science-jupyterlab",
        "JupyterLabAppImageConfig": {},
    }
    assert images.tagged.app_image_config_name == "data-science-jupyterlab"
    assert images.tagged.image_name == "data-science"


def test_only_sagemaker_may_assume_the_pull_role(images: Images) -> None:
    role = images.properties("tagged", "PullRole")
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}}
    ]
    assert "Policies" not in role
    assert "ManagedPolicyArns" not in role


def test_pull_role_may_only_pull_from_the_repository_and_decrypt_with_its_key(images: Images) -> None:
    policy = images.properties("tagged", "PullPolicy")
    assert policy["Roles"] == [{"Ref": logical_id(images.tagged.pull_role)}]
    assert policy["PolicyDocument"]["Statement"] == [
        {
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Effect": "Allow",
            "Resource": REPOSITORY_ARN,
        },
        {"Action": "kms:Decrypt", "Effect": "Allow", "Resource": KEY_ARN},
        {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
    ]


def test_each_image_has_only_its_own_managed_policy_and_no_inline_one(images: Images) -> None:
    images.template.resource_count_is("AWS::IAM::ManagedPolicy", 2)
    images.template.resource_count_is("AWS::IAM::Policy", 0)


@pytest.mark.parametrize("reference", ["v1", "latest", "sha256:" + "0" * 64, "@v1", "@sha512:abc", ""])
def test_a_reference_that_is_neither_a_tag_nor_a_digest_is_refused(
    cdk_context: dict[str, Any], reference: str
) -> None:
    with pytest.raises(ValueError, match="image_reference must be ':<tag>' or '@sha256:<digest>'"):
        studio_image(bare_stack(cdk_context), "Image", image_name="data-science", image_reference=reference)


def test_passes_the_compliance_packs_with_its_acknowledgements(
    cdk_context: dict[str, Any], tmp_path: Path
) -> None:
    stack = bare_stack(cdk_context, outdir=tmp_path, nag=True)
    retain = cdk.RemovalPolicy.RETAIN
    key = PlatformKey(stack, "ImagesKey", alias="alias/images", description="Images", removal_policy=retain)
    repository = ImageRepository(
        stack,
        "Repository",
        repository_name=REPOSITORY_NAME,
        encryption_key=key.key,
        keep_tagged_images=20,
        expire_untagged_after_days=7,
        pull_role_arns=[],
        push_role_arn="arn:aws:iam::123456789012:role/dev-sagemaker-platform-image-build",
        removal_policy=retain,
    )
    studio_image(
        stack,
        "Image",
        image_name="data-science",
        image_reference=DIGEST,
        repository=repository.repository,
        repository_key=key.key,
    )
    synth(stack)  # raises on any unacknowledged cdk-nag finding
