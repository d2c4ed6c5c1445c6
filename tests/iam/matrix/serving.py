"""Between environments: serving, promotion, model events, and what an unconfigured account gets."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from platform_config import EnvironmentConfig, naming
from tests.iam.evaluator import ContextValue, Outsider, Request
from tests.iam.matrix.base import SAGEMAKER, Asker, MatrixBase


class ServingRequests(MatrixBase):
    """Requests that cross from a source environment into the environments it serves."""

    # --- serving ----------------------------------------------------------------------------------

    def _serving_requests(self, source: EnvironmentConfig, target: EnvironmentConfig) -> Iterator[Request]:
        group = f"serving {target.name} <- {source.name}"
        serving = self.role(target, naming.serving_execution_role_name(target.name))
        deployment = self.role(target, naming.deployment_role_name(target.name))
        reader = self.role(target, naming.package_reader_role_name(target.name))

        request = Asker(group=group, principal=serving, account=source.account_id)

        yield request(
            "SageMaker assumes the serving role",
            "sts:AssumeRole",
            serving,
            allowed=True,
            principal=Outsider(SAGEMAKER),
            account=target.account_id,
        )
        yield request(
            "the serving role reads model artifacts",
            "s3:GetObject",
            self.model_object(source),
            allowed=True,
            principal=serving,
        )
        yield request(
            "the serving role cannot read outside the model prefix",
            "s3:GetObject",
            self.artifact_object(source, "data/train.csv"),
            allowed=False,
            principal=serving,
        )
        for action in ("s3:PutObject", "s3:DeleteObject"):
            yield request(
                f"the serving role cannot {action} model artifacts",
                action,
                self.model_object(source),
                allowed=False,
                principal=serving,
            )
        if source.pipelines:
            yield request(
                "the serving role cannot read the source's data bucket",
                "s3:GetObject",
                self._arn(source, "s3", f"{naming.data_bucket_name(source)}/landing/x.csv"),
                allowed=False,
                principal=serving,
            )
        for purpose in ("studio", "logs") if source.studio else ("logs",):
            yield request(
                f"the serving role cannot decrypt with the source's {purpose} key",
                "kms:Decrypt",
                self.key(source, purpose),
                allowed=False,
                principal=serving,
                context={"kms:ViaService": f"s3.{source.region}.amazonaws.com"},
            )
        if target.serving is not None:
            capture = self._arn(
                target, "s3", f"{naming.capture_bucket_name(target)}/capture/an-endpoint/x.jsonl"
            )
            yield request(
                "the serving role writes captured requests",
                "s3:PutObject",
                capture,
                allowed=True,
                principal=serving,
                account=target.account_id,
            )
            yield request(
                "the serving role encrypts captured requests through S3",
                "kms:GenerateDataKey",
                self.key(target, "data"),
                allowed=True,
                principal=serving,
                account=target.account_id,
                context={"kms:ViaService": f"s3.{target.region}.amazonaws.com"},
            )
        data_key, images_key = self.key(source, "data"), self.key(source, "images") if source.images else None
        s3_via = f"s3.{source.region}.amazonaws.com"
        yield request(
            "the serving role decrypts artifacts through S3",
            "kms:Decrypt",
            data_key,
            allowed=True,
            principal=serving,
            context={"kms:ViaService": s3_via},
        )
        yield request(
            "the serving role cannot decrypt directly",
            "kms:Decrypt",
            data_key,
            allowed=False,
            principal=serving,
        )
        yield request(
            "the serving role cannot decrypt through another service",
            "kms:Decrypt",
            data_key,
            allowed=False,
            principal=serving,
            context={"kms:ViaService": f"sqs.{source.region}.amazonaws.com"},
        )
        yield request(
            "the serving role cannot encrypt with the source's key",
            "kms:GenerateDataKey",
            data_key,
            allowed=False,
            principal=serving,
            context={"kms:ViaService": s3_via},
        )
        if source.images is not None and images_key is not None:
            ecr_via = f"ecr.{source.region}.amazonaws.com"
            yield request(
                "the serving role decrypts image layers through ECR",
                "kms:Decrypt",
                images_key,
                allowed=True,
                principal=serving,
                context={"kms:ViaService": ecr_via},
            )
            for repository in source.images.repositories:
                arn = self._arn(source, "ecr", f"repository/{repository.name}")
                yield request(
                    f"the serving role pulls {repository.name}",
                    "ecr:BatchGetImage",
                    arn,
                    allowed=True,
                    principal=serving,
                )
                yield request(
                    f"the serving role pulls {repository.name} layers",
                    "ecr:GetDownloadUrlForLayer",
                    arn,
                    allowed=True,
                    principal=serving,
                )
                yield request(
                    f"the serving role cannot push to {repository.name}",
                    "ecr:PutImage",
                    arn,
                    allowed=False,
                    principal=serving,
                )
            yield request(
                "the serving role cannot pull an unconfigured repository",
                "ecr:BatchGetImage",
                self._arn(source, "ecr", "repository/not-configured"),
                allowed=False,
                principal=serving,
            )
        endpoints = [
            endpoint
            for endpoint in (target.serving.endpoints if target.serving else ())
            if endpoint.model_package.source == source.name
        ]
        for group_config in source.model_registry.groups if source.model_registry else ():
            versions = self._arn(source, "sagemaker", f"model-package/{group_config.name.lower()}/7")
            yield request(
                f"the deployment role reads {group_config.name}'s versions",
                "sagemaker:DescribeModelPackage",
                versions,
                allowed=True,
                principal=deployment,
            )
            yield request(
                f"the deployment role cannot delete {group_config.name}",
                "sagemaker:DeleteModelPackageGroup",
                self._arn(source, "sagemaker", f"model-package-group/{group_config.name}"),
                allowed=False,
                principal=deployment,
            )
            yield request(
                f"the deployment role cannot approve versions of {group_config.name}",
                "sagemaker:UpdateModelPackage",
                versions,
                allowed=False,
                principal=deployment,
            )
        yield request(
            "the deployment role cannot read an unconfigured group",
            "sagemaker:DescribeModelPackage",
            self._arn(source, "sagemaker", "model-package/not-configured/1"),
            allowed=False,
            principal=deployment,
        )
        if target.serving is not None:
            for action, kind in (
                ("sagemaker:CreateModel", "model"),
                ("sagemaker:CreateEndpointConfig", "endpoint-config"),
                ("sagemaker:UpdateEndpoint", "endpoint"),
            ):
                yield request(
                    f"the deployment role may {action} in {target.name}",
                    action,
                    self._arn(target, "sagemaker", f"{kind}/x"),
                    allowed=True,
                    principal=deployment,
                    account=target.account_id,
                )
            yield request(
                "the deployment role passes the serving role to SageMaker",
                "iam:PassRole",
                serving,
                allowed=True,
                principal=deployment,
                account=target.account_id,
                context={"iam:PassedToService": SAGEMAKER},
            )
            yield request(
                "the deployment role cannot pass itself",
                "iam:PassRole",
                deployment,
                allowed=False,
                principal=deployment,
                account=target.account_id,
                context={"iam:PassedToService": SAGEMAKER},
            )
        for endpoint in endpoints:
            pinned = naming.model_package_arn(
                source, endpoint.model_package.group, endpoint.model_package.version
            )
            other = naming.model_package_arn(
                source, endpoint.model_package.group, endpoint.model_package.version + 1
            )
            yield request(
                f"the package reader reads {endpoint.name}'s pinned package",
                "sagemaker:DescribeModelPackage",
                pinned,
                allowed=True,
                principal=reader,
            )
            yield request(
                f"the package reader cannot read another version than {endpoint.name} pins",
                "sagemaker:DescribeModelPackage",
                other,
                allowed=False,
                principal=reader,
            )
            cfn = Outsider(
                naming.cloudformation_execution_role_arn(target),
                account=target.account_id,
            )
            yield request(
                "CloudFormation's execution role reads the pinned package to create the model",
                "sagemaker:DescribeModelPackage",
                pinned,
                allowed=True,
                principal=cfn,
            )

    def _promotion_requests(self, source: EnvironmentConfig, target: EnvironmentConfig) -> Iterator[Request]:
        group = f"promotion {source.name} -> {target.name}"
        promotion = self.role(source, naming.promotion_role_name(source.name))
        deployment = self.role(target, naming.deployment_role_name(target.name))
        external_id = target.cross_account.external_id
        organization_id = target.cross_account.organization_id
        base: dict[str, ContextValue] = {"aws:PrincipalOrgID": organization_id} if organization_id else {}
        cases: list[tuple[str, dict[str, ContextValue], bool]] = []
        if external_id is None:
            cases.append(("assumes the deployment role", dict(base), True))
        else:
            cases.append(
                (
                    "assumes the deployment role with the external id",
                    {**base, "sts:ExternalId": external_id},
                    True,
                )
            )
            cases.append(("cannot assume it without the external id", dict(base), False))
            cases.append(
                (
                    "cannot assume it with another external id",
                    {**base, "sts:ExternalId": external_id + "-x"},
                    False,
                )
            )
        if organization_id is not None:
            with_id: dict[str, ContextValue] = {"sts:ExternalId": external_id} if external_id else {}
            cases.append(
                (
                    "cannot assume it from outside the organization",
                    {**with_id, "aws:PrincipalOrgID": "o-0f0f0f0f0f"},
                    False,
                )
            )
        for description, context, allowed in cases:
            yield Request(
                group=group,
                description=description,
                principal=promotion,
                action="sts:AssumeRole",
                resource=deployment,
                resource_account=target.account_id,
                expect_allowed=allowed,
                context=context,
                positive_control=allowed,
            )
        serving = self.role(target, naming.serving_execution_role_name(target.name))
        yield Request(
            group=group,
            description="cannot assume the serving role",
            principal=promotion,
            action="sts:AssumeRole",
            resource=serving,
            resource_account=target.account_id,
            expect_allowed=False,
        )
        other_source = Outsider(self.role(target, "some-other-role"), account=target.account_id)
        yield Request(
            group=group,
            description="another role of the serving account cannot assume the deployment role",
            principal=other_source,
            action="sts:AssumeRole",
            resource=deployment,
            resource_account=target.account_id,
            expect_allowed=False,
            context={"sts:ExternalId": external_id} if external_id else {},
        )

    def _event_requests(self, source: EnvironmentConfig, target: EnvironmentConfig) -> Iterator[Request]:
        """The source's rules that target the served account's bus put the events they match there."""
        bus = f"arn:{naming.partition(target)}:events:{target.region}:{target.account_id}:event-bus/default"
        forwarders = [
            (rule_target["RoleArn"], properties["EventPattern"])
            for stack, _, properties in self.templates.resources("AWS::Events::Rule")
            if stack.environment == source.name
            for rule_target in properties.get("Targets", [])
            if rule_target.get("Arn") == bus and "RoleArn" in rule_target
        ]
        if source.model_registry is None:
            return
        assert forwarders, f"{source.name} forwards no model events to {target.name}'s bus"
        group = f"model events {source.name} -> {target.name}"
        for role, pattern in forwarders:
            # One call carries several entries: the keys hold every entry's source and detail type.
            source_name, detail_type = pattern["source"][0], pattern["detail-type"][0]
            matched: dict[str, ContextValue] = {
                "events:source": [source_name],
                "events:detail-type": [detail_type],
            }
            mixed: dict[str, ContextValue] = {
                "events:source": [source_name, "my.application"],
                "events:detail-type": [detail_type, "Anything"],
            }
            for description, context, allowed in (
                ("the forwarding rule's role puts the events it matches on the bus", matched, True),
                (
                    "it cannot put events of another source",
                    {**matched, "events:source": ["my.application"]},
                    False,
                ),
                (
                    "it cannot put events of another type",
                    {**matched, "events:detail-type": ["Anything"]},
                    False,
                ),
                ("it cannot slip another event into a batch of model events", mixed, False),
                ("it cannot put events without a source", {}, False),
            ):
                yield Request(
                    group=group,
                    description=description,
                    principal=role,
                    action="events:PutEvents",
                    resource=bus,
                    resource_account=target.account_id,
                    expect_allowed=allowed,
                    context=context,
                    positive_control=allowed,
                )

    def _unconfigured_account_requests(self, requests: Sequence[Request]) -> Iterator[Request]:
        """Every cross-account allow, replayed by an administrator of an account no file configures."""
        outsider = Outsider(
            f"arn:aws:iam::{self.unconfigured_account}:role/admin", account=self.unconfigured_account
        )
        seen: set[tuple[str, str]] = set()
        for request in requests:
            principal_account = (
                request.principal.account
                if isinstance(request.principal, Outsider)
                else self.accounts.role(request.principal).account
            )
            if not request.expect_allowed or principal_account in (None, request.resource_account):
                continue
            if (request.action, request.resource) in seen:
                continue
            seen.add((request.action, request.resource))
            yield Request(
                group="unconfigured account",
                description=f"replays: {request.description}",
                principal=outsider,
                action=request.action,
                resource=request.resource,
                resource_account=request.resource_account,
                expect_allowed=False,
                context=request.context,
            )
