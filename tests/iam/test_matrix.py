"""Every request of the matrix gets the verdict the design expects, on the sample and on a generated app."""

from __future__ import annotations

from collections import defaultdict

from tests.iam.conftest import Evaluation
from tests.iam.matrix import GROUP_KINDS, Matrix, kind_of


def test_every_request_gets_the_expected_verdict(evaluation: Evaluation) -> None:
    unexpected = evaluation.unexpected
    assert not unexpected, f"{len(unexpected)} unexpected verdicts ({evaluation.name}):\n" + "\n".join(
        verdict.explain() for verdict in unexpected
    )


def test_every_group_has_allowed_positive_controls(evaluation: Evaluation) -> None:
    """A denial proves nothing where nothing is allowed: each group's allows must really be allowed."""
    controls: dict[str, list[bool]] = defaultdict(list)
    for verdict in evaluation.verdicts:
        controls.setdefault(verdict.request.group, [])
        if verdict.request.positive_control:
            controls[verdict.request.group].append(verdict.allowed)
    without = sorted(group for group, allowed in controls.items() if not any(allowed))
    # Only the replays of the unconfigured account are all denials, by design.
    assert without == ["unconfigured account"], f"groups without an allowed positive control: {without}"


def test_requests_carry_only_context_keys_their_actions_take(evaluation: Evaluation) -> None:
    """The simulator drops keys the service reference does not list for an action: the matrix must not send
    any, or a guardrail could pass on a key AWS never sets."""
    ignored = {
        (verdict.request.action, key)
        for verdict in evaluation.verdicts
        for key in verdict.ignored_context_keys
    }
    assert not ignored


def test_the_matrix_covers_every_configured_relationship(evaluation: Evaluation) -> None:
    platform = evaluation.platform
    groups = {verdict.request.group for verdict in evaluation.verdicts}
    expected: set[str] = set()
    for environment in platform.environments.values():
        if environment.studio is not None:
            for domain in environment.studio.domains:
                used = {domain.default_persona, domain.shared_space_persona or domain.default_persona}
                used |= {user.persona for user in domain.users}
                expected |= {f"persona {environment.name}/{domain.name}/{persona}" for persona in used}
                expected |= {
                    f"domain isolation {environment.name}/{domain.name}/{persona}" for persona in used
                }
        if environment.iam.permissions_boundary is not None:
            expected.add(f"boundary {environment.name}")
        if environment.kubernetes is not None:
            expected.add(f"kubernetes {environment.name}/controller")
            expected |= {f"kubernetes {environment.name}/{n.name}" for n in environment.kubernetes.namespaces}
        if environment.pipelines or environment.serving:
            expected.add(f"notifications {environment.name}")
        for source in environment.trusted_environments:
            expected |= {
                f"serving {environment.name} <- {source}",
                f"promotion {source} -> {environment.name}",
            }
            if platform.environments[source].model_registry is not None:
                expected.add(f"model events {source} -> {environment.name}")
    assert expected <= groups, sorted(expected - groups)


def test_an_unconfigured_account_replays_every_cross_account_allow(evaluation: Evaluation) -> None:
    replays = [v for v in evaluation.verdicts if v.request.group == "unconfigured account"]
    cross_account_allows = {
        (v.request.action, v.request.resource)
        for v in evaluation.verdicts
        if v.request.expect_allowed
        and v.request.group != "unconfigured account"
        and evaluation.accounts.roles.get(v.request.principal_arn) is not None
        and evaluation.accounts.roles[v.request.principal_arn].account != v.request.resource_account
    }
    assert cross_account_allows
    assert cross_account_allows <= {(v.request.action, v.request.resource) for v in replays}
    assert not [v.explain() for v in replays if v.allowed]


def test_every_group_is_of_a_known_kind(evaluation: Evaluation) -> None:
    groups = {verdict.request.group for verdict in evaluation.verdicts}
    unknown = [g for g in groups if not any(g == k or g.startswith(f"{k} ") for k in GROUP_KINDS)]
    assert unknown == []
    assert {kind_of(group) for group in groups} <= set(GROUP_KINDS)


def test_the_unconfigured_account_is_none_of_the_configured_ones(evaluation: Evaluation) -> None:
    accounts = {environment.account_id for environment in evaluation.platform.environments.values()}
    assert Matrix(evaluation.platform, evaluation.accounts).unconfigured_account not in accounts
