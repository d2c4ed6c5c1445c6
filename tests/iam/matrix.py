"""The request matrix: what each principal must be allowed and denied, generated from the configuration.

Nothing here names the sample: every environment, account, domain, persona, group, repository, endpoint
and pipeline comes from the `PlatformConfig`, and every value CloudFormation assigns (subnet, security
group and key ids, a domain's ARN) from the resolved templates. Each group has positive controls (requests
that must be allowed), so that a denial never passes because nothing is allowed at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from platform_config import EnvironmentConfig, PersonaConfig, PlatformConfig, naming
from tests.iam.accounts import Accounts, Document
from tests.iam.evaluator import ContextValue, Outsider, Request
from tests.iam.templates import ResolvedTemplates

SAGEMAKER = "sagemaker.amazonaws.com"
# Values that no configuration uses: another subnet, security group, key, instance type, account.
FOREIGN_SUBNET = "subnet-0f0f0f0f0f0f0f0f0"
FOREIGN_SECURITY_GROUP = "sg-0f0f0f0f0f0f0f0f0"
UNLISTED_INSTANCE_TYPES = ("ml.p5.48xlarge", "ml.p4d.24xlarge", "ml.trn1.32xlarge", "ml.m5.24xlarge")
# The tag SageMaker puts on the resources created from a Studio domain (domain resource isolation).
DOMAIN_ARN_TAG = "sagemaker:domain-arn"

# The kinds of group the matrix builds: a group's name is its kind, then what it is about.
GROUP_KINDS = (
    "persona",
    "domain isolation",
    "sign-in",
    "pipeline role",
    "pipeline steps",
    "image builds",
    "approval guard",
    "no deletion",
    "boundary",
    "serving",
    "promotion",
    "model events",
    "notifications",
    "service integrations",
    "unconfigured account",
)


def kind_of(group: str) -> str:
    return next(kind for kind in GROUP_KINDS if group == kind or group.startswith(f"{kind} "))


JOB_ACTIONS = {
    "sagemaker:CreateTrainingJob": "training-job",
    "sagemaker:CreateProcessingJob": "processing-job",
    "sagemaker:CreateHyperParameterTuningJob": "hyper-parameter-tuning-job",
}


@dataclass(frozen=True)
class _Asker:
    """Builds the requests of one group: by one principal on one account's resources, unless told otherwise.
    An expected allow is a positive control."""

    group: str
    principal: str | Outsider
    account: str

    def __call__(
        self,
        description: str,
        action: str,
        resource: str,
        *,
        allowed: bool,
        context: Mapping[str, ContextValue] | None = None,
        principal: str | Outsider | None = None,
        account: str | None = None,
    ) -> Request:
        return Request(
            group=self.group,
            description=description,
            principal=self.principal if principal is None else principal,
            action=action,
            resource=resource,
            resource_account=self.account if account is None else account,
            expect_allowed=allowed,
            context=dict(context or {}),
            positive_control=allowed,
        )


@dataclass(frozen=True)
class Domain:
    """A deployed Studio domain as its templates resolve: the network jobs must use, its persona roles."""

    environment: EnvironmentConfig
    name: str
    arn: str
    domain_id: str
    subnet_ids: Sequence[str]
    security_group_ids: Sequence[str]
    persona_roles: dict[str, str]  # persona -> role ARN
    user_personas: dict[str, str]  # user profile -> persona


class Matrix:
    """Builds the requests for one app (every environment of one configuration)."""

    def __init__(self, platform: PlatformConfig, accounts: Accounts) -> None:
        self.platform = platform
        self.accounts = accounts
        self.templates: ResolvedTemplates = accounts.templates
        configured = {environment.account_id for environment in platform.environments.values()}
        self.unconfigured_account = next(
            candidate
            for candidate in ("999999999999", "999999999998", "999999999997")
            if candidate not in configured
        )

    def requests(self) -> list[Request]:
        found: list[Request] = []
        for environment in self.platform.environments.values():
            for domain in self.domains(environment):
                found.extend(self._persona_requests(domain))
                found.extend(self._domain_isolation_requests(domain))
                found.extend(self._sign_in_requests(domain))
            found.extend(self._pipeline_role_requests(environment))
            found.extend(self._image_build_requests(environment))
            found.extend(self._approval_guard_requests(environment))
            found.extend(self._no_deletion_requests(environment))
            found.extend(self._boundary_requests(environment))
            found.extend(self._notification_requests(environment))
            found.extend(self._integration_requests(environment))
            found.extend(self._pipeline_step_requests(environment))
            for source_name in environment.trusted_environments:
                source = self.platform.environments[source_name]
                found.extend(self._serving_requests(source, environment))
                found.extend(self._promotion_requests(source, environment))
                found.extend(self._event_requests(source, environment))
        found.extend(self._unconfigured_account_requests(found))
        return found

    # --- lookups ----------------------------------------------------------------------------------

    def domains(self, environment: EnvironmentConfig) -> list[Domain]:
        if environment.studio is None:
            return []
        resolved = []
        for domain in environment.studio.domains:
            stack, logical_id, properties = self._resource(
                environment, "AWS::SageMaker::Domain", lambda p, name=domain.name: p["DomainName"] == name
            )
            domain_id = self.templates.get_att(logical_id, "DomainId", stack)
            defaults = properties["DefaultUserSettings"]
            profiles = {
                p["UserProfileName"]: p["UserSettings"]["ExecutionRole"]
                for _, _, p in self.templates.resources("AWS::SageMaker::UserProfile")
                if p["DomainId"] == domain_id
            }
            roles = {user.persona: profiles[user.name] for user in domain.users}
            roles[domain.default_persona] = defaults["ExecutionRole"]
            shared = domain.shared_space_persona or domain.default_persona
            roles[shared] = properties["DefaultSpaceSettings"]["ExecutionRole"]
            resolved.append(
                Domain(
                    environment=environment,
                    name=domain.name,
                    arn=self.templates.get_att(logical_id, "DomainArn", stack),
                    domain_id=domain_id,
                    subnet_ids=properties["SubnetIds"],
                    security_group_ids=defaults["SecurityGroups"],
                    persona_roles=roles,
                    user_personas={user.name: user.persona for user in domain.users},
                )
            )
        return resolved

    def _resource(self, environment: EnvironmentConfig, kind: str, where: Any) -> tuple[Any, str, Any]:
        for stack, logical_id, properties in self.templates.resources(kind):
            if stack.environment == environment.name and where(properties):
                return stack, logical_id, properties
        raise LookupError(f"{environment.name}: no {kind} matches")

    def key(self, environment: EnvironmentConfig, purpose: str) -> str:
        return self.accounts.key_arn(environment.account_id, naming.key_alias(environment.name, purpose))

    def _arn(self, environment: EnvironmentConfig, service: str, resource: str) -> str:
        region = "" if service in ("iam", "s3") else environment.region
        account = "" if service == "s3" else environment.account_id
        return f"arn:{naming.partition(environment)}:{service}:{region}:{account}:{resource}"

    def artifact_object(self, environment: EnvironmentConfig, key: str) -> str:
        return self._arn(environment, "s3", f"{naming.artifact_bucket_name(environment)}/{key}")

    def model_object(self, environment: EnvironmentConfig) -> str:
        return self.artifact_object(environment, f"{naming.MODEL_ARTIFACT_PREFIX}/a-pipeline/model.tar.gz")

    def role(self, environment: EnvironmentConfig, name: str) -> str:
        return naming.role_arn(environment, name)

    def pipeline_role(self, environment: EnvironmentConfig) -> str | None:
        for _, _, properties in self.templates.resources("AWS::SageMaker::Pipeline"):
            role: str = properties["RoleArn"]
            if f":{environment.account_id}:" in role:
                return role
        return None

    # --- personas ---------------------------------------------------------------------------------

    def _persona_requests(self, domain: Domain) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        account = environment.account_id
        data_key = self.key(environment, "data")
        for persona_name, role in sorted(domain.persona_roles.items()):
            persona = environment.studio.personas[persona_name]
            capabilities: set[str] = set(persona.capabilities)
            group = f"persona {environment.name}/{domain.name}/{persona_name}"

            request = _Asker(group=group, principal=role, account=account)

            own_scratch = self.artifact_object(
                environment, f"{naming.persona_scratch_prefix(domain.name, persona_name)}/notes.csv"
            )
            yield request(
                "reads the platform's data",
                "s3:GetObject",
                self.artifact_object(environment, "data/train.csv"),
                allowed=True,
            )
            yield request("writes its own scratch place", "s3:PutObject", own_scratch, allowed=True)
            yield request("deletes in its own scratch place", "s3:DeleteObject", own_scratch, allowed=True)
            yield request(
                "decrypts the platform's data through S3",
                "kms:Decrypt",
                data_key,
                allowed=True,
                context={"kms:ViaService": f"s3.{environment.region}.amazonaws.com"},
            )
            yield request(
                "cannot overwrite served model artifacts",
                "s3:PutObject",
                self.model_object(environment),
                allowed=False,
            )
            yield request(
                "cannot delete served model artifacts",
                "s3:DeleteObject",
                self.model_object(environment),
                allowed=False,
            )
            other = next((p for p in sorted(domain.persona_roles) if p != persona_name), None)
            if other is not None:
                yield request(
                    f"cannot write persona {other}'s scratch place",
                    "s3:PutObject",
                    self.artifact_object(
                        environment, f"{naming.persona_scratch_prefix(domain.name, other)}/x"
                    ),
                    allowed=False,
                )
            yield request(
                "cannot delete the artifact bucket",
                "s3:DeleteBucket",
                self._arn(environment, "s3", naming.artifact_bucket_name(environment)),
                allowed=False,
            )
            for purpose in ("data", "studio", "logs"):
                yield request(
                    f"cannot schedule the {purpose} key's deletion",
                    "kms:ScheduleKeyDeletion",
                    self.key(environment, purpose),
                    allowed=False,
                )
            for registry_group in environment.model_registry.groups if environment.model_registry else ():
                yield request(
                    f"cannot delete model package group {registry_group.name}",
                    "sagemaker:DeleteModelPackageGroup",
                    self._arn(environment, "sagemaker", f"model-package-group/{registry_group.name}"),
                    allowed=False,
                )
            # Studio itself.
            app = self._arn(environment, "sagemaker", f"app/{domain.domain_id}/a-user/jupyterlab/default")
            for instance_type in persona.app_instance_types[:1]:
                yield request(
                    "starts a Studio app on its instance types",
                    "sagemaker:CreateApp",
                    app,
                    allowed=True,
                    context={"sagemaker:InstanceTypes": [instance_type]},
                )
            if persona.app_instance_types:
                unlisted = _unlisted(persona.app_instance_types)
                yield request(
                    "cannot start a Studio app on another instance type",
                    "sagemaker:CreateApp",
                    app,
                    allowed=False,
                    context={"sagemaker:InstanceTypes": [unlisted]},
                )
            for user in sorted(domain.user_personas):
                yield request(
                    f"cannot open user {user}'s Studio",
                    "sagemaker:CreatePresignedDomainUrl",
                    self._arn(environment, "sagemaker", f"user-profile/{domain.domain_id}/{user}"),
                    allowed=False,
                )
            yield from self._job_requests(
                domain, persona_name, allowed="jobs" in capabilities, request=request, data_key=data_key
            )
            yield from self._endpoint_requests(
                domain, persona, allowed="endpoints" in capabilities, request=request, data_key=data_key
            )
            yield from self._registry_requests(environment, capabilities, request)
            yield from self._experiment_requests(environment, capabilities, request)
            for pipeline in environment.pipelines:
                yield request(
                    f"{'starts' if 'pipelines' in capabilities else 'cannot start'} pipeline {pipeline.name}",
                    "sagemaker:StartPipelineExecution",
                    self._arn(environment, "sagemaker", f"pipeline/{pipeline.name.lower()}"),
                    allowed="pipelines" in capabilities,
                )
            if environment.images is not None:
                for repository in environment.images.repositories:
                    yield request(
                        f"cannot push to repository {repository.name}",
                        "ecr:PutImage",
                        self._arn(environment, "ecr", f"repository/{repository.name}"),
                        allowed=False,
                    )
            yield request(
                "passes its own role to SageMaker"
                if {"jobs", "endpoints"} & capabilities
                else "cannot pass its own role",
                "iam:PassRole",
                role,
                allowed=bool({"jobs", "endpoints"} & capabilities),
                context={"iam:PassedToService": SAGEMAKER},
            )
            yield request(
                "cannot pass its own role to another service",
                "iam:PassRole",
                role,
                allowed=False,
                context={"iam:PassedToService": "ec2.amazonaws.com"},
            )

    def _job_requests(
        self, domain: Domain, persona_name: str, *, allowed: bool, request: _Asker, data_key: str
    ) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        persona = environment.studio.personas[persona_name]
        instance_types = persona.job_instance_types or ("ml.m5.large",)
        studio_key = self.key(environment, "studio")
        isolated = "true" if persona.network_isolation else "false"
        compliant: dict[str, ContextValue] = {
            "sagemaker:VpcSubnets": [domain.subnet_ids[0]],
            "sagemaker:VpcSecurityGroupIds": list(domain.security_group_ids),
            "sagemaker:InstanceTypes": [instance_types[0]],
            "sagemaker:VolumeKmsKeyArn": data_key,
            "sagemaker:OutputKmsKeyArn": data_key,
            "sagemaker:NetworkIsolation": isolated,
        }
        broken: dict[str, dict[str, ContextValue | None]] = {
            "in a subnet outside the domain": {
                "sagemaker:VpcSubnets": [domain.subnet_ids[0], FOREIGN_SUBNET]
            },
            "outside any VPC": {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None},
            "with another security group": {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]},
            "on an instance type the persona does not have": {
                "sagemaker:InstanceTypes": [_unlisted(instance_types)]
            },
            "with volumes under another key": {"sagemaker:VolumeKmsKeyArn": studio_key},
            "with unencrypted volumes": {"sagemaker:VolumeKmsKeyArn": None},
            "with output under another key": {"sagemaker:OutputKmsKeyArn": studio_key},
            "with unencrypted output": {"sagemaker:OutputKmsKeyArn": None},
        }
        if persona.network_isolation:
            broken["without network isolation"] = {"sagemaker:NetworkIsolation": "false"}
        kinds = dict(JOB_ACTIONS)
        for action, kind in kinds.items():
            resource = self._arn(environment, "sagemaker", f"{kind}/a-job")
            verb = "starts" if allowed else "cannot start"
            yield request(
                f"{verb} a compliant {kind}", action, resource, allowed=allowed, context=_ctx(compliant)
            )
            for how, change in broken.items():
                yield request(
                    f"cannot start a {kind} {how}",
                    action,
                    resource,
                    allowed=False,
                    context=_ctx(compliant, change),
                )
        # Transform jobs take their VPC and isolation from their model (CreateModel requires them).
        model_settings = ("sagemaker:Vpc", "sagemaker:NetworkIsolation")
        transform = {k: v for k, v in compliant.items() if not k.startswith(model_settings)}
        resource = self._arn(environment, "sagemaker", "transform-job/a-job")
        yield request(
            f"{'starts' if allowed else 'cannot start'} a compliant transform job",
            "sagemaker:CreateTransformJob",
            resource,
            allowed=allowed,
            context=_ctx(transform),
        )
        for how, change in broken.items():
            if any(key.startswith(model_settings) for key in change):
                continue
            yield request(
                f"cannot start a transform job {how}",
                "sagemaker:CreateTransformJob",
                resource,
                allowed=False,
                context=_ctx(transform, change),
            )

    def _endpoint_requests(
        self, domain: Domain, persona: PersonaConfig, *, allowed: bool, request: _Asker, data_key: str
    ) -> Iterator[Request]:
        environment = domain.environment
        model = self._arn(environment, "sagemaker", "model/a-model")
        isolation: dict[str, ContextValue] = {
            "sagemaker:NetworkIsolation": "true" if persona.network_isolation else "false"
        }
        network: dict[str, ContextValue] = {
            "sagemaker:VpcSubnets": [domain.subnet_ids[0]],
            "sagemaker:VpcSecurityGroupIds": list(domain.security_group_ids),
            **isolation,
        }
        verb = "creates" if allowed else "cannot create"
        yield request(
            f"{verb} a model in the domain's VPC",
            "sagemaker:CreateModel",
            model,
            allowed=allowed,
            context=_ctx(network),
        )
        yield request(
            "cannot create a model outside the VPC",
            "sagemaker:CreateModel",
            model,
            allowed=False,
            context=isolation,
        )
        yield request(
            "cannot create a model in another subnet",
            "sagemaker:CreateModel",
            model,
            allowed=False,
            context=_ctx(network, {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]}),
        )
        config = self._arn(environment, "sagemaker", "endpoint-config/a-config")
        instance_types = persona.job_instance_types or ("ml.m5.large",)
        compliant: dict[str, ContextValue] = {
            "sagemaker:InstanceTypes": [instance_types[0]],
            "sagemaker:VolumeKmsKeyArn": data_key,
            **isolation,
        }
        yield request(
            f"{verb} an encrypted endpoint config",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=allowed,
            context=_ctx(compliant),
        )
        yield request(
            "cannot create an endpoint config on another instance type",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=False,
            context=_ctx(compliant, {"sagemaker:InstanceTypes": [_unlisted(instance_types)]}),
        )
        yield request(
            "cannot create an endpoint config with volumes under another key",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=False,
            context=_ctx(compliant, {"sagemaker:VolumeKmsKeyArn": self.key(environment, "studio")}),
        )
        if persona.network_isolation:
            for action, resource, context in (
                ("sagemaker:CreateModel", model, network),
                ("sagemaker:CreateEndpointConfig", config, compliant),
            ):
                yield request(
                    f"cannot {action} without network isolation",
                    action,
                    resource,
                    allowed=False,
                    context=_ctx(context, {"sagemaker:NetworkIsolation": "false"}),
                )

    def _experiment_requests(
        self, environment: EnvironmentConfig, capabilities: set[str], request: _Asker
    ) -> Iterator[Request]:
        """MLflow clients log to the tracking server and write run artifacts to its store themselves."""
        if environment.experiments is None:
            return
        tracks = "experiments" in capabilities
        server = naming.mlflow_tracking_server_arn(environment)
        verb = "logs" if tracks else "cannot log"
        yield request(
            f"{verb} runs to the tracking server", "sagemaker-mlflow:LogMetric", server, allowed=tracks
        )
        yield request(
            f"{'opens' if tracks else 'cannot open'} the MLflow UI",
            "sagemaker:CreatePresignedMlflowTrackingServerUrl",
            server,
            allowed=tracks,
        )
        artifact = self.artifact_object(
            environment, f"{naming.MLFLOW_ARTIFACT_PREFIX}/1/run/artifacts/model.pkl"
        )
        yield request(
            f"{'stores' if tracks else 'cannot store'} run artifacts",
            "s3:PutObject",
            artifact,
            allowed=tracks,
        )

    def _registry_requests(
        self, environment: EnvironmentConfig, capabilities: set[str], request: _Asker
    ) -> Iterator[Request]:
        for group in environment.model_registry.groups if environment.model_registry else ():
            version = self._arn(environment, "sagemaker", f"model-package/{group.name.lower()}/1")
            registers = "model_registry" in capabilities
            approves = "model_approval" in capabilities
            yield request(
                f"{'registers' if registers else 'cannot register'} a version of {group.name}",
                "sagemaker:CreateModelPackage",
                version,
                allowed=registers,
            )
            yield request(
                f"{'approves' if approves else 'cannot approve'} a version of {group.name}",
                "sagemaker:UpdateModelPackage",
                version,
                allowed=approves,
            )

    # --- domain isolation, sign-in -----------------------------------------------------------------

    def _domain_isolation_requests(self, domain: Domain) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        other_domain = f"{domain.arn[: domain.arn.rindex('/')]}/d-0f0f0f0f0f0f"
        for persona_name, role in sorted(domain.persona_roles.items()):
            group = f"domain isolation {environment.name}/{domain.name}/{persona_name}"
            capabilities = set(environment.studio.personas[persona_name].capabilities)
            targets = [("sagemaker:DescribeApp", f"app/{domain.domain_id}/a-user/jupyterlab/default")]
            if "jobs" in capabilities:
                targets.append(("sagemaker:DescribeTrainingJob", "training-job/a-job"))
                targets.append(("sagemaker:StopProcessingJob", "processing-job/a-job"))
            if "endpoints" in capabilities:
                targets.append(("sagemaker:DeleteEndpoint", "endpoint/an-endpoint"))
            for action, resource in targets:
                arn = self._arn(environment, "sagemaker", resource)
                for owner, allowed in ((domain.arn, True), (other_domain, False)):
                    yield Request(
                        group=group,
                        description=f"{action} on a resource of {'its own' if allowed else 'another'} domain",
                        principal=role,
                        action=action,
                        resource=arn,
                        resource_account=environment.account_id,
                        expect_allowed=allowed,
                        context={f"aws:ResourceTag/{DOMAIN_ARN_TAG}": owner},
                        positive_control=allowed,
                    )

    def _sign_in_requests(self, domain: Domain) -> Iterator[Request]:
        """A person signs in with a role that carries the domain's sign-in policy and their profile tag."""
        environment = domain.environment
        sign_in = [
            (f"{stack.stack_name}/{logical_id}", properties["PolicyDocument"])
            for stack, logical_id, properties in self.templates.resources("AWS::IAM::ManagedPolicy")
            if stack.environment == environment.name
            and any(
                "sagemaker:CreatePresignedDomainUrl" in _actions(statement)
                and domain.domain_id in str(statement.get("Resource"))
                for statement in properties["PolicyDocument"]["Statement"]
            )
        ]
        if not sign_in or len(domain.user_personas) < 1:
            return
        users = sorted(domain.user_personas)
        for user in users[:2]:
            person = Outsider(
                arn=self.role(environment, f"person-{user}"),
                account=environment.account_id,
                policies=tuple(sign_in),
                tags=(("studio-user-profile", user),),
            )
            for profile in [*users[:2], "not-a-user"]:
                yield Request(
                    group=f"sign-in {environment.name}/{domain.name}",
                    description=f"{user} {'opens' if profile == user else 'cannot open'} {profile}'s Studio",
                    principal=person,
                    action="sagemaker:CreatePresignedDomainUrl",
                    resource=self._arn(
                        environment, "sagemaker", f"user-profile/{domain.domain_id}/{profile}"
                    ),
                    resource_account=environment.account_id,
                    expect_allowed=profile == user,
                    positive_control=profile == user,
                )

    # --- pipelines --------------------------------------------------------------------------------

    def _pipeline_role_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        role = self.pipeline_role(environment)
        if role is None:
            return
        group = f"pipeline role {environment.name}"
        for action in ("s3:PutObject", "s3:GetObject"):
            yield Request(
                group=group,
                description="writes and reads the model artifacts it trains",
                principal=role,
                action=action,
                resource=self.model_object(environment),
                resource_account=environment.account_id,
                expect_allowed=True,
                positive_control=True,
            )
        yield Request(
            group=group,
            description="cannot delete the artifact bucket",
            principal=role,
            action="s3:DeleteBucket",
            resource=self._arn(environment, "s3", naming.artifact_bucket_name(environment)),
            resource_account=environment.account_id,
            expect_allowed=False,
        )

    # --- images, approvals, deletion -------------------------------------------------------------------

    def _image_build_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        if environment.images is None:
            return
        group = f"image builds {environment.name}"
        build_role = self.role(environment, naming.image_build_role_name(environment.name))
        admin = Outsider(self.role(environment, "an-administrator"), account=environment.account_id)
        for repository in environment.images.repositories:
            arn = self._arn(environment, "ecr", f"repository/{repository.name}")
            for principal, allowed, who in (
                (build_role, True, "the build role"),
                (admin, False, "an administrator"),
            ):
                for action in ("ecr:PutImage", "ecr:CompleteLayerUpload"):
                    yield Request(
                        group=group,
                        description=f"{who} {'pushes' if allowed else 'cannot push'} to {repository.name}",
                        principal=principal,
                        action=action,
                        resource=arn,
                        resource_account=environment.account_id,
                        expect_allowed=allowed,
                        positive_control=allowed,
                    )
        for domain in self.domains(environment):
            assert environment.studio is not None
            project = self._arn(
                environment, "codebuild", f"project/{naming.image_build_project_name(environment.name)}"
            )
            for persona_name, role in sorted(domain.persona_roles.items()):
                builds = "image_builds" in environment.studio.personas[persona_name].capabilities
                yield Request(
                    group=group,
                    description=f"persona {persona_name} {'starts' if builds else 'cannot start'} builds",
                    principal=role,
                    action="codebuild:StartBuild",
                    resource=project,
                    resource_account=environment.account_id,
                    expect_allowed=builds,
                    positive_control=builds,
                )

    def _approval_guard_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """The guard sets a version below its baseline back to Rejected, in its own registry only."""
        if environment.model_registry is None or not any(
            g.baseline for g in environment.model_registry.groups
        ):
            return
        guards = [
            role.arn
            for role in self.accounts.roles.values()
            if role.environment == environment.name
            and any(
                "sagemaker:UpdateModelPackage" in _actions(statement)
                for _, document in role.identity_policies
                for statement in document.get("Statement", [])
            )
            and "sagemaker.amazonaws.com" not in str(role.trust_policy)
        ]
        assert guards, f"{environment.name}: no role may update model packages for the approval guard"
        for guard in guards:
            for group_config in environment.model_registry.groups:
                if group_config.baseline is None:
                    continue
                version = self._arn(environment, "sagemaker", f"model-package/{group_config.name.lower()}/3")
                yield Request(
                    group=f"approval guard {environment.name}",
                    description=f"the guard rejects a version of {group_config.name}",
                    principal=guard,
                    action="sagemaker:UpdateModelPackage",
                    resource=version,
                    resource_account=environment.account_id,
                    expect_allowed=True,
                    positive_control=True,
                )
            yield Request(
                group=f"approval guard {environment.name}",
                description="the guard cannot delete a group",
                principal=guard,
                action="sagemaker:DeleteModelPackageGroup",
                resource=self._arn(
                    environment,
                    "sagemaker",
                    f"model-package-group/{environment.model_registry.groups[0].name}",
                ),
                resource_account=environment.account_id,
                expect_allowed=False,
            )

    def _no_deletion_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """No role the platform creates deletes a bucket, key, registry group or domain of its account; the
        account's administrator still can (positive control: teardown is not blocked by our policies)."""
        group = f"no deletion {environment.name}"
        targets: list[tuple[str, str]] = []
        for stack, logical_id, _ in self.templates.resources("AWS::S3::Bucket"):
            if stack.environment == environment.name:
                targets.append(("s3:DeleteBucket", self.templates.get_att(logical_id, "Arn", stack)))
        for stack, logical_id, _ in self.templates.resources("AWS::KMS::Key"):
            if stack.environment == environment.name:
                targets.append(("kms:ScheduleKeyDeletion", self.templates.get_att(logical_id, "Arn", stack)))
        for registry_group in environment.model_registry.groups if environment.model_registry else ():
            arn = self._arn(environment, "sagemaker", f"model-package-group/{registry_group.name}")
            targets.append(("sagemaker:DeleteModelPackageGroup", arn))
        for domain in self.domains(environment):
            targets.append(("sagemaker:DeleteDomain", domain.arn))
        admin = Outsider(self.role(environment, "an-administrator"), account=environment.account_id)
        roles = sorted(
            role.arn for role in self.accounts.roles.values() if role.environment == environment.name
        )
        for action, resource in targets:
            yield Request(
                group=group,
                description="the account's administrator may",
                principal=admin,
                action=action,
                resource=resource,
                resource_account=environment.account_id,
                expect_allowed=True,
                positive_control=True,
            )
            for role in roles:
                yield Request(
                    group=group,
                    description="no platform role may",
                    principal=role,
                    action=action,
                    resource=resource,
                    resource_account=environment.account_id,
                    expect_allowed=False,
                )

    def _boundary_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """A role under the environment's boundary whose own policy allows everything: the boundary alone
        decides, so what it denies is denied and the platform's everyday work is allowed."""
        boundary = naming.permissions_boundary_arn(environment)
        if boundary is None:
            return
        capped = Outsider(
            self.role(environment, "under-the-boundary"),
            account=environment.account_id,
            boundary_arn=boundary,
        )
        request = _Asker(
            group=f"boundary {environment.name}", principal=capped, account=environment.account_id
        )
        account_role = self.role(environment, "any-role")
        yield request(
            "reads the platform's data", "s3:GetObject", self.model_object(environment), allowed=True
        )
        yield request(
            "passes a role to SageMaker",
            "iam:PassRole",
            account_role,
            allowed=True,
            context={"iam:PassedToService": SAGEMAKER},
        )
        yield request(
            "starts a training job",
            "sagemaker:CreateTrainingJob",
            self._arn(environment, "sagemaker", "training-job/a-job"),
            allowed=True,
        )
        for action in (
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DeleteRolePermissionsBoundary",
        ):
            yield request(f"cannot {action}", action, account_role, allowed=False)
        assert environment.iam.permissions_boundary is not None
        if environment.iam.permissions_boundary.create:
            bucket = self._arn(environment, "s3", naming.artifact_bucket_name(environment))
            yield request("cannot delete the artifact bucket", "s3:DeleteBucket", bucket, allowed=False)
            yield request(
                "cannot change the artifact bucket's policy", "s3:PutBucketPolicy", bucket, allowed=False
            )
            for purpose in ("data", "logs"):
                key = self.key(environment, purpose)
                yield request(
                    f"cannot delete the {purpose} key", "kms:ScheduleKeyDeletion", key, allowed=False
                )
                yield request(
                    f"cannot change the {purpose} key's policy", "kms:PutKeyPolicy", key, allowed=False
                )
            for domain in self.domains(environment):
                yield request(
                    f"cannot delete domain {domain.name}", "sagemaker:DeleteDomain", domain.arn, allowed=False
                )

    def _notification_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """Everything that is meant to publish to one of the environment's topics can, through the topic's
        key: the alarms that name it, the rules that target it, the roles granted sns:Publish on it."""
        topics = {
            self.templates.ref(logical_id, stack): properties.get("KmsMasterKeyId")
            for stack, logical_id, properties in self.templates.resources("AWS::SNS::Topic")
            if stack.environment == environment.name
        }
        request = _Asker(
            group=f"notifications {environment.name}", principal=SAGEMAKER, account=environment.account_id
        )
        cloudwatch = Outsider("cloudwatch.amazonaws.com")
        for topic, publisher, source, description in sorted(
            set(self._publishers(environment, topics)), key=str
        ):
            key = topics[topic]
            origin: dict[str, ContextValue] = (
                {"aws:SourceAccount": environment.account_id, "aws:SourceArn": source} if source else {}
            )
            yield request(
                f"{description} publishes",
                "sns:Publish",
                topic,
                allowed=True,
                principal=publisher,
                context=origin,
            )
            if key is not None:
                via = (
                    {}
                    if isinstance(publisher, Outsider)
                    else {"kms:ViaService": f"sns.{environment.region}.amazonaws.com"}
                )
                for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    yield request(
                        f"{description} uses the topic's key ({action})",
                        action,
                        self._key_arn(environment, key),
                        allowed=True,
                        principal=publisher,
                        context={**origin, **via},
                    )
            if publisher == cloudwatch:
                foreign = {
                    **origin,
                    "aws:SourceAccount": self.unconfigured_account,
                    "aws:SourceArn": source.replace(
                        f":{environment.account_id}:", f":{self.unconfigured_account}:"
                    ),
                }
                yield request(
                    "an alarm of another account cannot publish",
                    "sns:Publish",
                    topic,
                    allowed=False,
                    principal=cloudwatch,
                    context=foreign,
                )

    def _integration_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """What services do on the platform's behalf: rules start what they target with their role, and
        CloudWatch Logs encrypts each encrypted log group with its key (for that log group only)."""
        request = _Asker(
            group=f"service integrations {environment.name}",
            principal=SAGEMAKER,
            account=environment.account_id,
        )
        target_actions = {":sagemaker:": "sagemaker:StartPipelineExecution", ":events:": "events:PutEvents"}
        for stack, logical_id, properties in self.templates.resources("AWS::Events::Rule"):
            if stack.environment != environment.name:
                continue
            for target in properties.get("Targets", []):
                action = next((a for marker, a in target_actions.items() if marker in target["Arn"]), None)
                if (
                    "RoleArn" not in target
                    or action is None
                    or f":{environment.account_id}:" not in target["Arn"]
                ):
                    continue
                yield request(
                    f"rule {logical_id}'s role may {action}",
                    action,
                    target["Arn"],
                    allowed=True,
                    principal=target["RoleArn"],
                    context={"events:source": ["aws.s3"], "events:detail-type": ["Object Created"]}
                    if action == "events:PutEvents"
                    else {},
                )
        logs = Outsider(f"logs.{environment.region}.amazonaws.com")
        for stack, logical_id, properties in self.templates.resources("AWS::Logs::LogGroup"):
            if stack.environment != environment.name or "KmsKeyId" not in properties:
                continue
            group_arn = self.templates.get_att(logical_id, "Arn", stack).removesuffix(":*")
            key = self._key_arn(environment, properties["KmsKeyId"])
            foreign = group_arn.replace(f":{environment.account_id}:", f":{self.unconfigured_account}:")
            for arn, allowed in ((group_arn, True), (foreign, False)):
                yield request(
                    f"CloudWatch Logs {'encrypts' if allowed else 'cannot encrypt'} log group "
                    f"{'of this account' if allowed else 'of another account'} with its key",
                    "kms:GenerateDataKey",
                    key,
                    allowed=allowed,
                    principal=logs,
                    context={"kms:EncryptionContext:aws:logs:arn": arn},
                )
        role = self.pipeline_role(environment)
        if role is None:
            return
        yield request(
            "the pipeline role passes itself to its jobs",
            "iam:PassRole",
            role,
            allowed=True,
            principal=role,
            context={"iam:PassedToService": SAGEMAKER},
        )
        yield request(
            "the pipeline role reads new source data",
            "s3:GetObject",
            self._arn(environment, "s3", f"{naming.data_bucket_name(environment)}/incoming/x.csv"),
            allowed=True,
            principal=role,
        )
        for pipeline in environment.pipelines:
            if pipeline.model_package_group is not None:
                version = f"model-package/{pipeline.model_package_group.lower()}/4"
                yield request(
                    f"{pipeline.name} registers into {pipeline.model_package_group}",
                    "sagemaker:CreateModelPackage",
                    self._arn(environment, "sagemaker", version),
                    allowed=True,
                    principal=role,
                )

    def _pipeline_step_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """Every step of every deployed pipeline, read from its rendered definition (the body that deploys):
        the call SageMaker makes for it as the pipeline's role, with the request context its arguments give
        (instance type, keys, network; parameters at their defaults) must be allowed, and so must passing
        the role the step names."""
        for stack, _, properties in self.templates.resources("AWS::SageMaker::Pipeline"):
            if stack.environment != environment.name:
                continue
            body = properties["PipelineDefinition"]["PipelineDefinitionBody"]
            definition = json.loads(body) if isinstance(body, str) else body
            defaults = {
                parameter["Name"]: parameter.get("DefaultValue")
                for parameter in definition.get("Parameters", [])
            }
            request = _Asker(
                group=f"pipeline steps {environment.name}/{properties['PipelineName']}",
                principal=properties["RoleArn"],
                account=environment.account_id,
            )
            for step in _flattened(definition["Steps"]):
                call = _step_call(step, defaults)
                if call is None:
                    continue
                action, kind, name, context = call
                resource = self._arn(environment, "sagemaker", f"{kind}/{name}")
                yield request(
                    f"step {step['Name']} ({step['Type']})", action, resource, allowed=True, context=context
                )
                # The same call with one guardrail broken: what a changed definition could ask for.
                for how, change in _broken_job_settings(context, self.key(environment, "logs")).items():
                    yield request(
                        f"step {step['Name']} {how}",
                        action,
                        resource,
                        allowed=False,
                        context=_ctx(context, change),
                    )
                passed = step["Arguments"].get("RoleArn") or step["Arguments"].get("ExecutionRoleArn")
                if passed:
                    yield request(
                        f"step {step['Name']} passes its role",
                        "iam:PassRole",
                        passed,
                        allowed=True,
                        context={"iam:PassedToService": SAGEMAKER},
                    )

    def _publishers(
        self, environment: EnvironmentConfig, topics: Mapping[str, Any]
    ) -> Iterator[tuple[str, str | Outsider, str, str]]:
        """(topic, publisher, the publishing resource's ARN or "", description) for every publisher."""
        region, account = environment.region, environment.account_id
        for stack, logical_id, properties in self.templates.resources("AWS::CloudWatch::Alarm"):
            if stack.environment != environment.name:
                continue
            name = properties.get("AlarmName", logical_id)
            alarm = f"arn:{naming.partition(environment)}:cloudwatch:{region}:{account}:alarm:{name}"
            for action in properties.get("AlarmActions", []) + properties.get("OKActions", []):
                if action in topics:
                    yield action, Outsider("cloudwatch.amazonaws.com"), alarm, f"alarm {name}"
        for stack, logical_id, properties in self.templates.resources("AWS::Events::Rule"):
            if stack.environment != environment.name:
                continue
            rule = self.templates.get_att(logical_id, "Arn", stack)
            for target in properties.get("Targets", []):
                if target["Arn"] in topics:
                    yield target["Arn"], Outsider("events.amazonaws.com"), rule, f"rule {logical_id}"
        for role in self.accounts.roles.values():
            if role.environment != environment.name:
                continue
            granted = {
                resource
                for _, document in role.identity_policies
                for statement in document.get("Statement", [])
                if statement["Effect"] == "Allow" and "sns:Publish" in _actions(statement)
                for resource in _as_list(statement["Resource"])
            }
            for topic in sorted(granted & set(topics)):
                yield topic, role.arn, "", f"role {role.name}"

    def _key_arn(self, environment: EnvironmentConfig, key: str) -> str:
        if key.startswith("arn:"):
            return key
        prefix = f"arn:{naming.partition(environment)}:kms:{environment.region}:{environment.account_id}"
        return f"{prefix}:{key}" if key.startswith("alias/") else f"{prefix}:key/{key}"

    # --- serving ----------------------------------------------------------------------------------

    def _serving_requests(self, source: EnvironmentConfig, target: EnvironmentConfig) -> Iterator[Request]:
        group = f"serving {target.name} <- {source.name}"
        serving = self.role(target, naming.serving_execution_role_name(target.name))
        deployment = self.role(target, naming.deployment_role_name(target.name))
        reader = self.role(target, naming.package_reader_role_name(target.name))

        request = _Asker(group=group, principal=serving, account=source.account_id)

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


def _flattened(steps: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Steps in order, the branches of condition steps included."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from _flattened(step["Arguments"].get("IfSteps", []))
            yield from _flattened(step["Arguments"].get("ElseSteps", []))


def _step_value(value: Any, defaults: Mapping[str, Any]) -> Any:
    """A step argument as the request carries it: parameters at their defaults, booleans as IAM reads them;
    None where only the execution knows (another step's output, a parameter without a default)."""
    if isinstance(value, dict):
        reference = value.get("Get", "")
        if isinstance(reference, str) and reference.startswith("Parameters."):
            return defaults.get(reference.removeprefix("Parameters."))
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_step_value(item, defaults) for item in value]
    return value


def _dig(arguments: Mapping[str, Any], path: str) -> Any:
    node: Any = arguments
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


_NETWORK = "NetworkConfig"  # a processing job's network settings
# What each kind of step asks SageMaker for: action, resource type, the argument naming the resource, and
# where each condition key's value sits in the step's arguments.
_STEP_CALLS: Mapping[str, tuple[str, str, str, Mapping[str, str]]] = {
    "Processing": (
        "sagemaker:CreateProcessingJob",
        "processing-job",
        "ProcessingJobName",
        {
            "sagemaker:InstanceTypes": "ProcessingResources.ClusterConfig.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "ProcessingOutputConfig.KmsKeyId",
            "sagemaker:VpcSubnets": f"{_NETWORK}.VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": f"{_NETWORK}.VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": f"{_NETWORK}.EnableNetworkIsolation",
            "sagemaker:InterContainerTrafficEncryption": f"{_NETWORK}.EnableInterContainerTrafficEncryption",
        },
    ),
    "Training": (
        "sagemaker:CreateTrainingJob",
        "training-job",
        "TrainingJobName",
        {
            "sagemaker:InstanceTypes": "ResourceConfig.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "ResourceConfig.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "OutputDataConfig.KmsKeyId",
            "sagemaker:VpcSubnets": "VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": "VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": "EnableNetworkIsolation",
            "sagemaker:InterContainerTrafficEncryption": "EnableInterContainerTrafficEncryption",
        },
    ),
    "Transform": (
        "sagemaker:CreateTransformJob",
        "transform-job",
        "TransformJobName",
        {
            "sagemaker:InstanceTypes": "TransformResources.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "TransformResources.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "TransformOutput.KmsKeyId",
        },
    ),
    "Model": (
        "sagemaker:CreateModel",
        "model",
        "ModelName",
        {
            "sagemaker:VpcSubnets": "VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": "VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": "EnableNetworkIsolation",
        },
    ),
    "RegisterModel": ("sagemaker:CreateModelPackage", "model-package", "ModelPackageGroupName", {}),
}
_STEP_CALLS = {
    **_STEP_CALLS,
    "QualityCheck": _STEP_CALLS["Processing"],
    "ClarifyCheck": _STEP_CALLS["Processing"],
}
# Keys whose values are lists in the request, whatever the step writes.
_LIST_KEYS = {"sagemaker:InstanceTypes", "sagemaker:VpcSubnets", "sagemaker:VpcSecurityGroupIds"}


def _step_call(
    step: Mapping[str, Any], defaults: Mapping[str, Any]
) -> tuple[str, str, str, dict[str, ContextValue]] | None:
    if step["Type"] not in _STEP_CALLS:
        return None
    action, kind, name_argument, keys = _STEP_CALLS[step["Type"]]
    arguments = step["Arguments"]
    name = str(_step_value(arguments.get(name_argument), defaults) or step["Name"]).lower()
    if kind == "model-package":
        name = f"{name}/1"
    context: dict[str, ContextValue] = {}
    for key, path in keys.items():
        value = _step_value(_dig(arguments, path), defaults)
        if value is None or (isinstance(value, list) and None in value):
            continue
        context[key] = (
            [str(item) for item in value]
            if isinstance(value, list)
            else ([str(value)] if key in _LIST_KEYS else str(value))
        )
    return action, kind, name, context


def _broken_job_settings(
    context: Mapping[str, ContextValue], other_key: str
) -> dict[str, dict[str, ContextValue | None]]:
    """Each guardrail that a request context carries, broken on its own."""
    broken: dict[str, dict[str, ContextValue | None]] = {}
    if "sagemaker:VpcSubnets" in context:
        broken["in a subnet outside the platform's"] = {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]}
        broken["with another security group"] = {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]}
        broken["outside any VPC"] = {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None}
    for key, what in (("sagemaker:VolumeKmsKeyArn", "volumes"), ("sagemaker:OutputKmsKeyArn", "output")):
        if key in context:
            broken[f"with {what} under another key"] = {key: other_key}
            broken[f"with unencrypted {what}"] = {key: None}
    return broken


def _unlisted(instance_types: Sequence[str]) -> str:
    return next(candidate for candidate in UNLISTED_INSTANCE_TYPES if candidate not in instance_types)


def _ctx(
    base: dict[str, ContextValue], change: dict[str, ContextValue | None] | None = None
) -> dict[str, ContextValue]:
    """A request context with some keys changed, and those changed to None removed."""
    merged: dict[str, ContextValue | None] = {**base, **(change or {})}
    return {key: value for key, value in merged.items() if value is not None}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statement: Document) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]
