"""The request matrix: what each principal must be allowed and denied, generated from the configuration.

Nothing here names the sample: every environment, account, domain, persona, group, repository, endpoint
and pipeline comes from the `PlatformConfig`, and every value CloudFormation assigns (subnet, security
group and key ids, a domain's ARN) from the resolved templates. Each group has positive controls (requests
that must be allowed), so that a denial never passes because nothing is allowed at all.
"""

from __future__ import annotations

from tests.iam.evaluator import Request
from tests.iam.matrix.base import GROUP_KINDS, kind_of
from tests.iam.matrix.environment import EnvironmentRequests
from tests.iam.matrix.kubernetes import KubernetesRequests
from tests.iam.matrix.serving import ServingRequests
from tests.iam.matrix.studio import StudioRequests

__all__ = ["GROUP_KINDS", "Matrix", "kind_of"]


class Matrix(StudioRequests, EnvironmentRequests, ServingRequests, KubernetesRequests):
    """Builds the requests for one app (every environment of one configuration)."""

    def requests(self) -> list[Request]:
        found: list[Request] = []
        for environment in self.platform.environments.values():
            for domain in self.domains(environment):
                found.extend(self._persona_requests(domain))
                found.extend(self._domain_isolation_requests(domain))
                found.extend(self._sign_in_requests(domain))
                found.extend(self._teardown_requests(domain))
            found.extend(self._pipeline_role_requests(environment))
            found.extend(self._image_build_requests(environment))
            found.extend(self._approval_guard_requests(environment))
            found.extend(self._no_deletion_requests(environment))
            found.extend(self._boundary_requests(environment))
            found.extend(self._notification_requests(environment))
            found.extend(self._integration_requests(environment))
            found.extend(self._pipeline_step_requests(environment))
            found.extend(self._kubernetes_requests(environment))
            for source_name in environment.trusted_environments:
                source = self.platform.environments[source_name]
                found.extend(self._serving_requests(source, environment))
                found.extend(self._promotion_requests(source, environment))
                found.extend(self._event_requests(source, environment))
        found.extend(self._unconfigured_account_requests(found))
        return found
