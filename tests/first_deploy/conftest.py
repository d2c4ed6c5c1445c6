"""Phase apps for the replay: each phase's configuration synthesized as app.py would (cdk-nag included)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import cx_api

from platform_config import PlatformConfig
from tests.conftest import synthesize_cached
from tests.first_deploy.replay import DeployedStack, Synthesized
from tests.iam.templates import ResolvedTemplates, stack_templates

Synthesize = Callable[[PlatformConfig, Sequence[str]], Synthesized]


def synthesized_stacks(assembly: cx_api.CloudAssembly) -> Synthesized:
    """The stacks of a synthesized app as the replay deploys them."""
    templates = stack_templates(assembly)
    stacks = [
        DeployedStack(
            template=template,
            path=artifact.hierarchical_id,
            dependencies=frozenset(
                dependency.hierarchical_id
                for dependency in artifact.dependencies
                if isinstance(dependency, cx_api.CloudFormationStackArtifact)
            ),
            requires_bootstrap_version=int(artifact.requires_bootstrap_stack_version or 0),
            deploy_role_arn=str(artifact.assume_role_arn),
            construct_paths={
                str(entry.data): entry.path.lstrip("/")
                for entry in artifact.find_metadata_by_type("aws:cdk:logicalId")
            },
        )
        for artifact, template in zip(assembly.stacks_recursively, templates, strict=True)
    ]
    return Synthesized(stacks=stacks, resolved=ResolvedTemplates(templates))


def synthesize_into(folder: Path, context: dict[str, Any]) -> Synthesize:
    """A `synthesize` for Replay that writes each app into a numbered folder under `folder` and synthesizes
    each (configuration, environments) once: replays of the same plan share their phase apps."""
    counter = itertools.count(1)
    apps: dict[tuple[int, tuple[str, ...]], tuple[PlatformConfig, Synthesized]] = {}

    def synthesize(platform: PlatformConfig, environments: Sequence[str]) -> Synthesized:
        key = (id(platform), tuple(environments))
        if key not in apps:
            outdir = folder / f"app-{next(counter)}"
            assembly = synthesize_cached(
                platform, environments=list(environments), context=context, outdir=outdir
            )
            apps[key] = (platform, synthesized_stacks(assembly))  # the config is kept, so its id is too
        return apps[key][1]

    return synthesize


@pytest.fixture(scope="session")
def synthesize(tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]) -> Synthesize:
    return synthesize_into(tmp_path_factory.mktemp("first-deploy"), cdk_context)
