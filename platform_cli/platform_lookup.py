"""Where an image build goes, read from the SSM parameters the deployed image build stack publishes.

Nothing here is hard-coded: the names come from `platform_config.naming`, the same functions the stacks
use to publish them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from platform_config import naming

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# <registry>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]/<name>
REPOSITORY_URI_PATTERN = re.compile(
    r"(?P<registry>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<name>[a-z0-9][a-z0-9._/-]*)"
)


class PlatformLookupError(Exception):
    """The deployed platform does not have what the command needs; the message says what to do."""


@dataclass(frozen=True)
class BuildTarget:
    """The build project, staging bucket and repository of one environment's image build path."""

    environment: str
    repository: str
    repository_uri: str
    project_name: str
    source_bucket: str

    @property
    def registry_id(self) -> str:
        return self._uri_part("registry")

    @property
    def repository_region(self) -> str:
        return self._uri_part("region")

    @property
    def ecr_repository_name(self) -> str:
        """The name ECR knows the repository by (the configured name may have been given a prefix)."""
        return self._uri_part("name")

    def _uri_part(self, group: str) -> str:
        match = REPOSITORY_URI_PATTERN.fullmatch(self.repository_uri)
        if match is None:  # resolve_build_target checked it
            raise PlatformLookupError(f"'{self.repository_uri}' is not an ECR repository URI")
        return match.group(group)


def configured_repositories(ssm: SSMClient, environment: str) -> list[str]:
    """The repository names the environment's image build stack published, sorted."""
    root = naming.image_build_parameter(environment, "repositories")
    names: list[str] = []
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=root, Recursive=True):
        names.extend(parameter["Name"].removeprefix(f"{root}/") for parameter in page["Parameters"])
    return sorted(names)


def resolve_build_target(ssm: SSMClient, *, environment: str, repository: str, region: str) -> BuildTarget:
    """Read project, bucket and repository URI in one call; explain what is missing and how to fix it."""
    project_parameter = naming.image_build_parameter(environment, "project-name")
    bucket_parameter = naming.image_build_parameter(environment, "source-bucket")
    repository_parameter = naming.repository_parameter(environment, repository)
    response = ssm.get_parameters(Names=[project_parameter, bucket_parameter, repository_parameter])
    values = {parameter["Name"]: parameter["Value"] for parameter in response["Parameters"]}

    missing_stack_parameters = [name for name in (project_parameter, bucket_parameter) if name not in values]
    if missing_stack_parameters:
        raise PlatformLookupError(
            f"the image build stack of environment '{environment}' is not deployed in region {region} "
            f"(SSM parameter {', '.join(missing_stack_parameters)} not found). Deploy that environment's "
            "image build stack, or check --env, --region and the AWS account your credentials belong to."
        )
    if repository_parameter not in values:
        known = configured_repositories(ssm, environment)
        listing = ", ".join(known) if known else "none"
        raise PlatformLookupError(
            f"repository '{repository}' is not configured in environment '{environment}' "
            f"(no SSM parameter {repository_parameter}). Configured repositories: {listing}. "
            f"Pass one of them with --repository, or add '{repository}' under images.repositories in "
            f"config/{environment}.yaml and deploy."
        )

    repository_uri = values[repository_parameter]
    match = REPOSITORY_URI_PATTERN.fullmatch(repository_uri)
    if match is None:
        raise PlatformLookupError(
            f"SSM parameter {repository_parameter} holds '{repository_uri}', which is not an ECR repository "
            "URI (<account>.dkr.ecr.<region>.amazonaws.com/<name>); redeploy the image build stack."
        )
    if match.group("region") != region:
        raise PlatformLookupError(
            f"repository '{repository}' lives in region {match.group('region')}, but the command runs "
            f"against {region}; pass --region {match.group('region')}."
        )
    return BuildTarget(
        environment=environment,
        repository=repository,
        repository_uri=repository_uri,
        project_name=values[project_parameter],
        source_bucket=values[bucket_parameter],
    )
