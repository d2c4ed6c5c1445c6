"""Where `mlplatform build-image` builds, read from the platform's configuration before any AWS call.

The environment must be a file of the config folder that configures `images`, the repository one of its
`images.repositories` (it may be left out when there is exactly one), and the region is the environment's
`region`. Every refusal names the file and the field, and what is configured instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from platform_cli.configured import configured_environment, load_configuration
from platform_cli.errors import CommandError


@dataclass(frozen=True)
class BuildSettings:
    """The configured environment, repository and region one build-image run uses."""

    environment: str
    repository: str
    region: str


def configured_build(
    config_dir: Path, *, environment: str, repository: str | None, region: str | None
) -> BuildSettings:
    if not config_dir.is_dir():
        raise CommandError(
            f"--config-dir {config_dir}: no such folder; run from the repository root or pass --config-dir "
            "with the platform's config folder"
        )
    platform = load_configuration(config_dir, then=", then build again")
    config = configured_environment(
        platform, config_dir, environment, asked_as=f"--env '{environment}' is not configured"
    )
    source = config_dir / f"{environment}.yaml"
    if config.images is None:
        building = sorted(name for name, env in platform.environments.items() if env.images is not None)
        raise CommandError(
            f"{source}: images is not set, so environment '{environment}' has no image build project; "
            f"build in one that configures images ({', '.join(building) or 'none does'})"
        )
    names = [configured.name for configured in config.images.repositories]
    if repository is None:
        if len(names) != 1:
            raise CommandError(
                f"--repository is required: {source}: images.repositories has {', '.join(names)}"
            )
        repository = names[0]
    elif repository not in names:
        raise CommandError(
            f"--repository '{repository}' is not in {source}: images.repositories; configured: "
            f"{', '.join(names)} (add it there and deploy, or pick one of these)"
        )
    if region is not None and region != config.region:
        raise CommandError(
            f"--region {region} is not environment '{environment}''s region: {source}: region is "
            f"{config.region}; leave --region out"
        )
    return BuildSettings(environment=environment, repository=repository, region=config.region)
