"""The platform's own permissions boundary, deployed before every stack that creates a role."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from constructs_lib.shared.permissions_boundary_policy import PermissionsBoundaryPolicy


class BoundaryStack(Stack):
    """The boundary policy of `iam.permissions_boundary.create: true`, alone in its stack (ADR 0011): a
    role that names a boundary which does not exist yet fails to create, so every other stack of the
    environment depends on this one, and this one holds no role. Exposes `boundary`.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, policy_name: str, path: str, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.boundary = PermissionsBoundaryPolicy(self, "Boundary", policy_name=policy_name, path=path)
