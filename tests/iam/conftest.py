"""The IAM evaluation of two apps: the shipped sample, and the configuration the tests write."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from platform_config import PlatformConfig, load_platform
from tests.conftest import SynthesizedApp, synthesize_cached
from tests.iam import generated_config
from tests.iam.accounts import Accounts, Document
from tests.iam.evaluator import Evaluator, Verdict
from tests.iam.matrix import Matrix
from tests.iam.templates import ResolvedTemplates, stack_templates


@dataclass(frozen=True)
class Evaluation:
    name: str
    platform: PlatformConfig
    accounts: Accounts
    verdicts: list[Verdict]
    seconds: float  # reading the templates, building the matrix and evaluating it (not the synth)

    @property
    def unexpected(self) -> list[Verdict]:
        return [verdict for verdict in self.verdicts if not verdict.expected]


def evaluate(
    name: str,
    platform: PlatformConfig,
    assembly: Any,
    existing_policies: Mapping[str, Document] | None = None,
) -> Evaluation:
    """`existing_policies`: managed policies the accounts already have (a boundary named by ARN)."""
    started = time.perf_counter()
    accounts = Accounts.from_templates(
        ResolvedTemplates(stack_templates(assembly)), existing_policies=existing_policies
    )
    verdicts = Evaluator(accounts).evaluate(Matrix(platform, accounts).requests())
    return Evaluation(
        name=name,
        platform=platform,
        accounts=accounts,
        verdicts=verdicts,
        seconds=time.perf_counter() - started,
    )


@pytest.fixture(scope="session")
def sample_evaluation(synthesized: SynthesizedApp, sample_platform: PlatformConfig) -> Evaluation:
    return evaluate("sample", sample_platform, synthesized.assembly)


@pytest.fixture(scope="session")
def generated_evaluation(tmp_path_factory: pytest.TempPathFactory, cdk_context: dict[str, Any]) -> Evaluation:
    """Synthesized like the sample, cdk-nag and the template validator included."""
    folder = generated_config.write(tmp_path_factory.mktemp("generated") / "config")
    platform = load_platform(folder)
    outdir = tmp_path_factory.mktemp("generated.out")
    assembly = synthesize_cached(platform, context=cdk_context, outdir=outdir)
    existing = {generated_config.EXISTING_BOUNDARY_ARN: generated_config.EXISTING_BOUNDARY}
    return evaluate("generated", platform, assembly, existing)


@pytest.fixture(scope="session", params=["sample", "generated"])
def evaluation(request: pytest.FixtureRequest) -> Evaluation:
    result: Evaluation = request.getfixturevalue(f"{request.param}_evaluation")
    return result
