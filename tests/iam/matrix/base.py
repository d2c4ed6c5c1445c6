"""What every part of the request matrix shares: names of groups, the request builder, lookups of
deployed values (domains, keys, ARNs), and small helpers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from platform_config import EnvironmentConfig, PlatformConfig, naming
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
    "studio teardown",
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
    "kubernetes",
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
class Asker:
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
    file_system_ids: Sequence[str]  # the domain's team file systems (EFS)


class MatrixBase:
    """One app's configuration and resolved templates, and the values the requests name."""

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
                    file_system_ids=[
                        self.templates.ref(file_system, stack)
                        for file_system, resource in sorted(stack.resources.items())
                        if resource["Type"] == "AWS::EFS::FileSystem"
                    ],
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
        """The platform pipelines' role, where the environment deploys any (notebook jobs run as others)."""
        if not environment.pipelines:
            return None
        return self.role(environment, naming.pipeline_role_name(environment.name))

    def _key_arn(self, environment: EnvironmentConfig, key: str) -> str:
        if key.startswith("arn:"):
            return key
        prefix = f"arn:{naming.partition(environment)}:kms:{environment.region}:{environment.account_id}"
        return f"{prefix}:{key}" if key.startswith("alias/") else f"{prefix}:key/{key}"


def unlisted(instance_types: Sequence[str]) -> str:
    return next(candidate for candidate in UNLISTED_INSTANCE_TYPES if candidate not in instance_types)


def changed(
    base: dict[str, ContextValue], change: dict[str, ContextValue | None] | None = None
) -> dict[str, ContextValue]:
    """A request context with some keys changed, and those changed to None removed."""
    merged: dict[str, ContextValue | None] = {**base, **(change or {})}
    return {key: value for key, value in merged.items() if value is not None}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def actions_of(statement: Document) -> list[str]:
    actions = statement.get("Action", [])
    return actions if isinstance(actions, list) else [actions]
