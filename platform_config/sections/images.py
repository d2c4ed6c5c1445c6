"""`images`: the ECR repositories the platform builds images into, their Studio images, and the build."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, StrictStr, field_validator, model_validator

from platform_config.problems import FieldError
from platform_config.sections.shared import AccountId, FrozenModel, WholeDays, unique

# ECR's repository name pattern, without namespaces: the name is also a SageMaker image name.
REPOSITORY_NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
IMAGE_TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
IMAGE_DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
BuildComputeType = Literal[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]


class StudioImageConfig(FrozenModel):
    """Makes a repository's image a Studio (JupyterLab) image, pinned to one immutable tag or digest."""

    image_tag: StrictStr | None = None
    image_digest: StrictStr | None = None
    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    pushed: StrictBool = Field(
        default=True,
        description="false until `mlplatform build-image` has pushed the pinned tag or digest: SageMaker "
        "reads the image when the Studio image version is created, so until then the platform creates "
        "neither the Studio image nor its place in the domains (see `make first-deploy-plan`)",
    )

    @model_validator(mode="after")
    def _pinned_once(self) -> StudioImageConfig:
        if (self.image_tag is None) == (self.image_digest is None):
            raise FieldError(
                "has both or neither of image_tag and image_digest",
                "set exactly one of image_tag (an immutable tag) or image_digest (sha256:...)",
            )
        if self.image_tag is not None and not IMAGE_TAG_PATTERN.fullmatch(self.image_tag):
            raise FieldError(
                f"'{self.image_tag}' is not a valid image tag",
                "use letters, digits, _ . and - (not starting with . or -), at most 128",
                at="image_tag",
            )
        if self.image_digest is not None and not IMAGE_DIGEST_PATTERN.fullmatch(self.image_digest):
            raise FieldError(
                f"'{self.image_digest}' is not an image digest",
                "give it as sha256:<64 hex digits>",
                at="image_digest",
            )
        return self

    @property
    def reference(self) -> str:
        """What follows the repository URI: `:tag` or `@sha256:...`."""
        return f":{self.image_tag}" if self.image_tag is not None else f"@{self.image_digest}"


class RepositoryConfig(FrozenModel):
    """An ECR repository the platform builds images into (and serving accounts pull from)."""

    name: StrictStr = Field(min_length=2, max_length=63)
    keep_tagged_images: StrictInt = Field(default=30, ge=1, le=1000)
    expire_untagged_after_days: StrictInt = Field(default=7, ge=1, le=365)
    studio_image: StudioImageConfig | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not REPOSITORY_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a valid repository name",
                "use lower-case letters and digits, separated by single '.', '_' or '-'",
            )
        return value


class ImageBuildConfig(FrozenModel):
    """The CodeBuild project that builds images from uploaded folders."""

    compute_type: BuildComputeType = "BUILD_GENERAL1_MEDIUM"
    in_vpc: StrictBool = Field(
        default=False,
        description="Run builds in the environment's isolated subnets: base images then come only from ECR "
        "(the platform's and AWS's registries), nothing from the internet",
    )
    timeout_minutes: StrictInt = Field(default=60, ge=5, le=480)
    log_retention_days: WholeDays = 90
    source_retention_days: StrictInt = Field(default=7, ge=1, le=90)
    base_image_accounts: tuple[AccountId, ...] = Field(
        default=(),
        description="More ECR registries (account ids) that Dockerfiles may start FROM, besides the AWS "
        "Deep Learning Containers registry of the region",
    )


class ImagesConfig(FrozenModel):
    build: ImageBuildConfig = ImageBuildConfig()
    repositories: tuple[RepositoryConfig, ...] = Field(min_length=1)

    @field_validator("repositories")
    @classmethod
    def _unique_repositories(cls, value: tuple[RepositoryConfig, ...]) -> tuple[RepositoryConfig, ...]:
        unique(tuple(repository.name for repository in value), "repository names")
        return value

    @property
    def studio_images(self) -> dict[str, RepositoryConfig]:
        """Every repository with a studio_image, pushed or not (domains may name any of them)."""
        return {repository.name: repository for repository in self.repositories if repository.studio_image}

    @property
    def pushed_studio_images(self) -> dict[str, RepositoryConfig]:
        """The Studio images the platform creates: those whose pinned image is in ECR."""
        return {
            name: repository
            for name, repository in self.studio_images.items()
            if repository.studio_image is not None and repository.studio_image.pushed
        }
