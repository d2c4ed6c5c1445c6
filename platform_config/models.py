"""Typed, frozen configuration of one environment, validated before any construct sees it.

Each environment is one YAML file in `config/`; `loader.load_platform` turns every file into an
`EnvironmentConfig` and checks what spans files (trusts, serves, account ids).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from platform_config.aws_constraints import constraint, value_problem
from platform_config.aws_values import (
    AWS_REGIONS,
    STUDIO_APP_INSTANCE_TYPES,
    STUDIO_APP_TYPES,
    STUDIO_ML_TOOLS,
)
from platform_config.problems import FieldError, SeveralFieldsError, key_path, raise_all

# SageMaker's pattern for domain, user profile, space and lifecycle config names.
SAGEMAKER_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*")
SAGEMAKER_NAME_MAX_LENGTH = 63
# Environment names become Stage ids, stack-name prefixes and tag values.
ENVIRONMENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
# Prefixes S3 reserves; environment names start bucket names (platform_config.naming).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")
# SageMaker limits a lifecycle script to 16384 characters once base64 encoded.
MAX_LIFECYCLE_SCRIPT_BASE64_LENGTH = 16384
# SageMaker's tag limits, the strictest of the services tagged.
RESERVED_TAG_KEYS = ("project", "environment")
MIN_IDLE_MINUTES = 60
MAX_IDLE_MINUTES = 525600
MIN_SPACE_STORAGE_GB = 5
MAX_SPACE_STORAGE_GB = 16384
# Team file system names become construct ids and the file system's Name tag.
MAX_FILE_SYSTEM_NAME_LENGTH = 40
# How many custom file systems SageMaker takes (maxItems in the resource schemas): a user profile's
# CustomFileSystemConfigs, a space's CustomFileSystems, and the domain's default space settings.
MAX_FILE_SYSTEMS_PER_USER = 10
MAX_FILE_SYSTEMS_PER_SPACE = 1
MAX_FILE_SYSTEMS_FOR_SHARED_SPACES = 2


class FrozenModel(BaseModel):
    """Base for every configuration object: immutable, and unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _sagemaker_name(value: str) -> str:
    if len(value) > SAGEMAKER_NAME_MAX_LENGTH or not SAGEMAKER_NAME_PATTERN.fullmatch(value):
        raise FieldError(
            f"'{value}' is not a valid SageMaker name",
            "use 1-63 letters, digits and hyphens, starting and ending with a letter or digit (no "
            "underscores, dots or spaces)",
        )
    return value


def _account_id(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        raise FieldError(
            "an account id must be a quoted string of 12 digits (YAML reads an unquoted number as an "
            "integer and drops leading zeros)",
            "quote it, e.g. '012345678901'",
        )
    if isinstance(value, str) and not ACCOUNT_ID_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not an AWS account id", "use exactly 12 digits, quoted")
    return value


def _region(value: str) -> str:
    if value not in AWS_REGIONS:
        raise FieldError(f"unknown region '{value}'", f"use one of {', '.join(sorted(AWS_REGIONS))}")
    return value


def _app_instance_type(value: str) -> str:
    # 'system' is the instance type of the legacy JupyterServer app only, not one users can pick.
    if value not in STUDIO_APP_INSTANCE_TYPES or value == "system":
        raise FieldError(
            f"'{value}' is not a SageMaker Studio app instance type",
            "use one such as ml.t3.medium, ml.m5.xlarge or ml.g5.xlarge (the full list is in "
            "platform_config/aws_values.py)",
        )
    return value


def _unique(values: tuple[str, ...], what: str, at: str = "") -> tuple[str, ...]:
    duplicates = sorted(name for name, count in Counter(values).items() if count > 1)
    if duplicates:
        raise FieldError(f"duplicate {what}: {', '.join(duplicates)}", "list each once", at=at)
    return values


def _email_addresses(value: tuple[str, ...]) -> tuple[str, ...]:
    for email in value:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise FieldError(
                f"'{email}' is not an e-mail address", "give an address such as team@example.com"
            )
    return _unique(value, "e-mail addresses")


# The retention periods CloudWatch Logs offers.
LogRetentionDays = Literal[30, 60, 90, 180, 365, 731, 1827, 3653]


def _whole_days(value: object) -> object:
    if not isinstance(value, int) or isinstance(value, bool):
        raise FieldError(f"{value!r} is not a whole number of days", "give one such as 365, without quotes")
    return value


WholeDays = Annotated[LogRetentionDays, BeforeValidator(_whole_days)]


def _valid_tag_map(value: dict[str, str]) -> dict[str, str]:
    for key, tag_value in value.items():
        if key in RESERVED_TAG_KEYS or key.lower().startswith("aws:"):
            raise FieldError(
                f"tag key '{key}' is reserved (the platform sets {', '.join(RESERVED_TAG_KEYS)}, AWS the "
                "aws: keys)",
                "use another key",
                at=key_path(key),
            )
        for part, text, target in (("key", key, "tag key"), ("value", tag_value, "tag value")):
            problem = value_problem(text, target)
            if problem:
                raise FieldError(
                    f"the {part} {text!r} {problem} ({constraint(target).source})",
                    f"change the tag's {part}",
                    at=key_path(key),
                )
    return value


SageMakerName = Annotated[StrictStr, AfterValidator(_sagemaker_name)]
AccountId = Annotated[StrictStr, BeforeValidator(_account_id)]
Region = Annotated[StrictStr, AfterValidator(_region)]
AppInstanceType = Annotated[StrictStr, AfterValidator(_app_instance_type)]


def _environment_name(value: str) -> str:
    if value.startswith(RESERVED_BUCKET_PREFIXES):
        raise FieldError(
            f"'{value}' starts with a prefix S3 reserves ({', '.join(RESERVED_BUCKET_PREFIXES)}), and bucket "
            "names start with the environment name",
            "rename the environment's file",
        )
    return value


EnvironmentName = Annotated[
    StrictStr, Field(pattern=ENVIRONMENT_NAME_PATTERN.pattern), AfterValidator(_environment_name)
]
StudioAppType = Literal["JupyterLab", "CodeEditor"]
PersonaCapabilityName = Literal[
    "jobs",
    "experiments",
    "pipelines",
    "model_registry",
    "model_approval",
    "endpoints",
    "image_builds",
    "notebook_jobs",
]


# --- network -------------------------------------------------------------------------------------


class NewVpcConfig(FrozenModel):
    """A VPC the platform creates: isolated subnets only, no internet or NAT gateways."""

    cidr: StrictStr = Field(description="IPv4 CIDR of the VPC, /16 to /24")
    availability_zones: tuple[StrictStr, ...] = Field(
        min_length=2, description="At least two AZs of the environment's region, named explicitly"
    )
    subnet_cidr_mask: StrictInt = Field(default=22, ge=16, le=28)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise FieldError(
                f"'{value}' is not an IPv4 network in CIDR notation ({error})",
                "give one such as 10.20.0.0/16",
            ) from None
        if not 16 <= network.prefixlen <= 24:
            raise FieldError(
                f"'{value}' has a /{network.prefixlen} prefix, outside what a VPC takes",
                "use a prefix length between /16 and /24",
            )
        return value

    @field_validator("availability_zones")
    @classmethod
    def _unique_zones(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "availability zones")

    @model_validator(mode="after")
    def _subnets_fit(self) -> NewVpcConfig:
        prefix = ipaddress.IPv4Network(self.cidr).prefixlen
        available = 2 ** (self.subnet_cidr_mask - prefix) if self.subnet_cidr_mask >= prefix else 0
        if available < len(self.availability_zones):
            raise FieldError(
                f"/{self.subnet_cidr_mask} leaves room for {available} subnet(s) in {self.cidr}, but "
                f"{len(self.availability_zones)} availability zones need one each",
                "use a larger mask number or a wider VPC CIDR",
                at="subnet_cidr_mask",
            )
        return self


class ExistingSubnetConfig(FrozenModel):
    subnet_id: StrictStr = Field(pattern=r"^subnet-[0-9a-f]{8,17}$")
    availability_zone: StrictStr
    route_table_id: StrictStr = Field(pattern=r"^rtb-[0-9a-f]{8,17}$")


class ExistingVpcConfig(FrozenModel):
    """A VPC owned elsewhere, referenced by ids (no lookups): private subnets with no internet route."""

    vpc_id: StrictStr = Field(pattern=r"^vpc-[0-9a-f]{8,17}$")
    cidr: StrictStr
    subnets: tuple[ExistingSubnetConfig, ...] = Field(min_length=2)
    create_endpoints: StrictBool = Field(
        default=True, description="False when the VPC already has the endpoints Studio needs"
    )
    create_flow_logs: StrictBool = Field(default=True)

    @field_validator("cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            ipaddress.IPv4Network(value, strict=True)
        except ValueError as error:
            raise FieldError(
                f"'{value}' is not an IPv4 network in CIDR notation ({error})",
                "give the VPC's CIDR, such as 10.20.0.0/16",
            ) from None
        return value

    @model_validator(mode="after")
    def _distinct_subnets(self) -> ExistingVpcConfig:
        _unique(tuple(subnet.subnet_id for subnet in self.subnets), "subnet ids")
        if len({subnet.availability_zone for subnet in self.subnets}) < 2:
            raise FieldError(
                "the subnets are all in one availability zone", "list subnets in at least two", at="subnets"
            )
        return self


class NetworkConfig(FrozenModel):
    """Exactly one of `new_vpc` or `existing_vpc`."""

    new_vpc: NewVpcConfig | None = None
    existing_vpc: ExistingVpcConfig | None = None
    flow_log_retention_days: WholeDays = 365

    @model_validator(mode="after")
    def _one_vpc(self) -> NetworkConfig:
        if (self.new_vpc is None) == (self.existing_vpc is None):
            raise FieldError(
                "has both or neither of new_vpc and existing_vpc",
                "set exactly one of new_vpc (the platform creates it) or existing_vpc",
            )
        return self

    @property
    def availability_zones(self) -> tuple[str, ...]:
        if self.new_vpc is not None:
            return self.new_vpc.availability_zones
        assert self.existing_vpc is not None
        return tuple(dict.fromkeys(subnet.availability_zone for subnet in self.existing_vpc.subnets))


# --- studio --------------------------------------------------------------------------------------


class PersonaConfig(FrozenModel):
    """What a kind of Studio user may do; each persona becomes one execution role per domain."""

    description: StrictStr = Field(min_length=1, max_length=1000)
    capabilities: tuple[PersonaCapabilityName, ...] = ()
    job_instance_types: tuple[StrictStr, ...] = Field(
        default=(),
        description="Instance types the persona's jobs (training, processing, transform, tuning) and test "
        "endpoints may use",
    )
    app_instance_types: tuple[AppInstanceType, ...] = Field(
        default=(), description="Studio app instance types the persona may start; empty means any"
    )
    network_isolation: StrictBool = Field(
        default=False,
        description="Training, processing and tuning jobs, models and endpoint configs of the persona must "
        "run with network isolation (containers without network access)",
    )

    @field_validator("capabilities")
    @classmethod
    def _unique_capabilities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "capabilities")

    @field_validator("app_instance_types")
    @classmethod
    def _unique_app_instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "app instance types")

    @field_validator("job_instance_types")
    @classmethod
    def _job_instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for instance_type in value:
            if not re.fullmatch(r"ml\.[a-z0-9-]+\.[a-z0-9]+", instance_type):
                raise FieldError(
                    f"'{instance_type}' is not a SageMaker instance type", "use one such as ml.m5.xlarge"
                )
        return _unique(value, "job instance types")

    @model_validator(mode="after")
    def _jobs_need_instance_types(self) -> PersonaConfig:
        for capability in ("jobs", "endpoints", "notebook_jobs"):
            if capability in self.capabilities and not self.job_instance_types:
                raise FieldError(
                    f"the '{capability}' capability needs job_instance_types",
                    "list the instance types its jobs and endpoints may use",
                    at="job_instance_types",
                )
        if "model_approval" in self.capabilities and "model_registry" not in self.capabilities:
            raise FieldError(
                "the 'model_approval' capability needs 'model_registry' too",
                "add model_registry",
                at="capabilities",
            )
        if self.network_isolation and not {"jobs", "endpoints"} & set(self.capabilities):
            raise FieldError(
                "network_isolation applies to jobs and models, and the persona has neither",
                "give the persona the 'jobs' or 'endpoints' capability, or remove network_isolation",
                at="network_isolation",
            )
        if self.network_isolation and "notebook_jobs" in self.capabilities:
            raise FieldError(
                "the 'notebook_jobs' capability cannot go with network_isolation: Studio's notebook jobs run "
                "their kernel with network access (to read data and call AWS) and do not ask for isolation",
                "remove one of the two",
                at="network_isolation",
            )
        return self


class UserConfig(FrozenModel):
    name: SageMakerName
    persona: StrictStr
    sso_user_name: StrictStr | None = Field(
        default=None, min_length=1, description="IAM Identity Center user name; required with auth_mode SSO"
    )


class SpaceConfig(FrozenModel):
    """A Studio space. Private spaces belong to their owner; shared spaces are open to the whole domain.

    Studio lists a space only when it has an owner, so shared spaces name one too (the user who
    administers it).
    """

    name: SageMakerName
    sharing: Literal["private", "shared"]
    owner: SageMakerName
    app_type: StudioAppType = "JupyterLab"
    storage_gb: StrictInt | None = Field(
        default=None,
        ge=MIN_SPACE_STORAGE_GB,
        le=MAX_SPACE_STORAGE_GB,
        description="EBS volume size; the domain's storage.default_space_gb when unset",
    )
    instance_type: AppInstanceType | None = None
    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=64)


class LifecycleScript(FrozenModel):
    """A lifecycle script file, read and checked at load time (the file is the reviewable source)."""

    path: Path
    content: str

    @property
    def content_base64(self) -> str:
        return base64.b64encode(self.content.encode()).decode()


def _read_script(value: object, info: ValidationInfo) -> LifecycleScript:
    if not isinstance(value, str):
        raise FieldError(
            f"{value!r} is not a path", "give the script as a path to a file, relative to the config folder"
        )
    base = Path((info.context or {}).get("config_dir", "."))
    path = (base / value).resolve()
    if not path.is_file():
        raise FieldError(
            f"script file '{value}' not found (looked for {path})", f"give a path relative to {base}"
        )
    try:
        content = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FieldError(f"script file '{value}' is not UTF-8 text", "save it as UTF-8") from None
    if not content.strip():
        raise FieldError(f"script file '{value}' is empty", "write the script or remove the config")
    if not content.startswith("#!"):
        raise FieldError(
            f"script file '{value}' has no shebang line", "start it with one such as #!/bin/bash"
        )
    encoded_length = len(base64.b64encode(content.encode()))
    if encoded_length > MAX_LIFECYCLE_SCRIPT_BASE64_LENGTH:
        raise FieldError(
            f"script file '{value}' is {encoded_length} characters base64 encoded, and SageMaker allows "
            f"{MAX_LIFECYCLE_SCRIPT_BASE64_LENGTH}",
            "move the bulk into an image or a package",
        )
    return LifecycleScript(path=path, content=content)


class LifecycleConfigConfig(FrozenModel):
    """A Studio lifecycle configuration attached to the domain's defaults for its app type."""

    name: SageMakerName = Field(max_length=40)
    app_type: StudioAppType
    script: Annotated[LifecycleScript, BeforeValidator(_read_script)]
    run_by_default: StrictBool = Field(
        default=True, description="Also run it when a user starts the app without choosing a config"
    )

    def deployed_name(self, domain_name: str) -> str:
        """A name that changes with the script: every property is create-only, so a new script is a new
        config rather than a name collision."""
        digest = hashlib.sha256(
            f"{domain_name}\0{self.name}\0{self.app_type}\0{self.script.content}".encode()
        ).hexdigest()[:12]
        return f"{self.name}-{digest}"


class IdleShutdownConfig(FrozenModel):
    """Native idle shutdown of JupyterLab and CodeEditor apps; users may pick a value within min..max."""

    default_minutes: StrictInt = Field(ge=MIN_IDLE_MINUTES, le=MAX_IDLE_MINUTES)
    min_minutes: StrictInt = Field(default=MIN_IDLE_MINUTES, ge=MIN_IDLE_MINUTES, le=MAX_IDLE_MINUTES)
    max_minutes: StrictInt = Field(default=1440, ge=MIN_IDLE_MINUTES, le=MAX_IDLE_MINUTES)

    @model_validator(mode="after")
    def _ordered(self) -> IdleShutdownConfig:
        if not self.min_minutes <= self.default_minutes <= self.max_minutes:
            raise FieldError(
                f"need min_minutes <= default_minutes <= max_minutes, got "
                f"{self.min_minutes} <= {self.default_minutes} <= {self.max_minutes}",
                "reorder the three values",
            )
        return self


class AppDefaultsConfig(FrozenModel):
    default_instance_type: AppInstanceType = "ml.t3.medium"


class HiddenConfig(FrozenModel):
    """What the Studio web portal hides from users (cosmetic; IAM is what enforces)."""

    app_types: tuple[StrictStr, ...] = ()
    ml_tools: tuple[StrictStr, ...] = ()
    instance_types: tuple[AppInstanceType, ...] = ()

    @field_validator("app_types")
    @classmethod
    def _app_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for app_type in value:
            if app_type not in STUDIO_APP_TYPES:
                raise FieldError(
                    f"unknown app type '{app_type}'", f"use one of {', '.join(sorted(STUDIO_APP_TYPES))}"
                )
        return _unique(value, "app types")

    @field_validator("ml_tools")
    @classmethod
    def _ml_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tool in value:
            if tool not in STUDIO_ML_TOOLS:
                raise FieldError(
                    f"unknown ML tool '{tool}'", f"use one of {', '.join(sorted(STUDIO_ML_TOOLS))}"
                )
        return _unique(value, "ML tools")

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "instance types")


class StorageConfig(FrozenModel):
    default_space_gb: StrictInt = Field(default=5, ge=MIN_SPACE_STORAGE_GB, le=MAX_SPACE_STORAGE_GB)
    max_space_gb: StrictInt = Field(default=100, ge=MIN_SPACE_STORAGE_GB, le=MAX_SPACE_STORAGE_GB)

    @model_validator(mode="after")
    def _ordered(self) -> StorageConfig:
        if self.default_space_gb > self.max_space_gb:
            raise FieldError(
                f"{self.default_space_gb} exceeds max_space_gb ({self.max_space_gb})",
                "lower it or raise max_space_gb",
                at="default_space_gb",
            )
        return self


class FileSystemConfig(FrozenModel):
    """A team file system: an EFS file system the platform creates for one domain, mounted in the private
    spaces of the listed users and in the listed spaces."""

    name: SageMakerName = Field(max_length=MAX_FILE_SYSTEM_NAME_LENGTH)
    users: tuple[SageMakerName, ...] = Field(
        default=(), description="Users whose private spaces mount it (their user profile's settings)"
    )
    spaces: tuple[SageMakerName, ...] = Field(default=(), description="Spaces that mount it")
    automatic_backups: StrictBool = Field(
        default=True, description="EFS automatic backups to AWS Backup's default plan"
    )

    @field_validator("users")
    @classmethod
    def _unique_users(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "users")

    @field_validator("spaces")
    @classmethod
    def _unique_spaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "spaces")

    @model_validator(mode="after")
    def _attached(self) -> FileSystemConfig:
        if not self.users and not self.spaces:
            raise FieldError(
                f"file system '{self.name}' is attached to nobody", "list at least one of users or spaces"
            )
        return self


class DomainConfig(FrozenModel):
    """One SageMaker Studio domain with its users, spaces and defaults."""

    name: SageMakerName
    auth_mode: Literal["IAM", "SSO"] = "IAM"
    default_persona: StrictStr
    shared_space_persona: StrictStr | None = Field(
        default=None,
        description="Persona whose role shared spaces run with (SageMaker runs every shared space with the "
        "domain's default space role); default_persona when unset",
    )
    idle_shutdown: IdleShutdownConfig
    docker_access: StrictBool = False
    jupyterlab: AppDefaultsConfig = AppDefaultsConfig()
    code_editor: AppDefaultsConfig = AppDefaultsConfig()
    hidden: HiddenConfig = HiddenConfig()
    storage: StorageConfig = StorageConfig()
    lifecycle_configs: tuple[LifecycleConfigConfig, ...] = ()
    custom_images: tuple[StrictStr, ...] = Field(
        default=(),
        description="Repositories (under images) whose studio_image JupyterLab offers in this domain",
    )
    users: tuple[UserConfig, ...] = ()
    spaces: tuple[SpaceConfig, ...] = ()
    home_efs: StrictBool = Field(
        default=False,
        description="Whether SageMaker creates the domain's home EFS and mounts it in every app; create-only",
    )
    file_systems: tuple[FileSystemConfig, ...] = ()

    @field_validator("custom_images")
    @classmethod
    def _unique_custom_images(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "custom images")

    @field_validator("lifecycle_configs")
    @classmethod
    def _one_default_per_app_type(
        cls, value: tuple[LifecycleConfigConfig, ...]
    ) -> tuple[LifecycleConfigConfig, ...]:
        for app_type in ("JupyterLab", "CodeEditor"):
            defaults = [c.name for c in value if c.app_type == app_type and c.run_by_default]
            if len(defaults) > 1:
                raise FieldError(
                    f"{', '.join(defaults)} all set run_by_default for {app_type}, and SageMaker runs one by "
                    "default per app type",
                    "set run_by_default: false on all but one",
                )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DomainConfig:
        problems: list[FieldError] = []
        user_names = [user.name for user in self.users]
        for field_name, label, names in (
            ("users", "user names", user_names),
            ("spaces", "space names", [space.name for space in self.spaces]),
            (
                "lifecycle_configs",
                "lifecycle config names",
                [config.name for config in self.lifecycle_configs],
            ),
            ("file_systems", "file system names", [file_system.name for file_system in self.file_systems]),
        ):
            try:
                _unique(tuple(names), label, at=field_name)
            except FieldError as problem:
                problems.append(problem)
        for index, space in enumerate(self.spaces):
            if space.owner not in user_names:
                problems.append(
                    FieldError(
                        f"'{space.owner}' is not a user of this domain",
                        f"make the owner one of its users ({', '.join(user_names) or 'none yet'})",
                        at=f"spaces[{index}].owner",
                    )
                )
            if space.storage_gb is not None and space.storage_gb > self.storage.max_space_gb:
                problems.append(
                    FieldError(
                        f"{space.storage_gb} GB is above the domain's storage.max_space_gb "
                        f"({self.storage.max_space_gb})",
                        "ask for less or raise storage.max_space_gb",
                        at=f"spaces[{index}].storage_gb",
                    )
                )
            if space.instance_type in self.hidden.instance_types:
                problems.append(
                    FieldError(
                        f"{space.instance_type} is hidden in this domain (hidden.instance_types)",
                        "pick a visible instance type or unhide it",
                        at=f"spaces[{index}].instance_type",
                    )
                )
        for index, user in enumerate(self.users):
            if self.auth_mode == "SSO" and user.sso_user_name is None:
                problems.append(
                    FieldError(
                        f"'{user.name}' has no sso_user_name, and the domain uses auth_mode SSO",
                        "add the user's IAM Identity Center user name",
                        at=f"users[{index}].sso_user_name",
                    )
                )
            if self.auth_mode == "IAM" and user.sso_user_name is not None:
                problems.append(
                    FieldError(
                        f"'{user.name}' sets sso_user_name, which only applies with auth_mode SSO",
                        "remove it or set the domain's auth_mode to SSO",
                        at=f"users[{index}].sso_user_name",
                    )
                )
        problems.extend(self._file_system_references(user_names))
        for app, defaults in (("jupyterlab", self.jupyterlab), ("code_editor", self.code_editor)):
            if defaults.default_instance_type in self.hidden.instance_types:
                problems.append(
                    FieldError(
                        f"{defaults.default_instance_type} is in hidden.instance_types",
                        "pick a visible default or unhide it",
                        at=f"{app}.default_instance_type",
                    )
                )
        raise_all(problems)
        return self

    def user_file_systems(self, user: str) -> tuple[str, ...]:
        """Names of the file systems in the user's profile settings: those that list the user, and those
        that list one of the user's private spaces (SageMaker mounts in a private space only what its
        owner's profile allows)."""
        own_private = {s.name for s in self.spaces if s.owner == user and s.sharing == "private"}
        return tuple(fs.name for fs in self.file_systems if user in fs.users or own_private & set(fs.spaces))

    def space_file_systems(self, space: SpaceConfig) -> tuple[str, ...]:
        """Names of the file systems mounted in the space: those that list it and, for a private space,
        those that list its owner."""
        return tuple(
            fs.name
            for fs in self.file_systems
            if space.name in fs.spaces or (space.sharing == "private" and space.owner in fs.users)
        )

    def shared_space_file_systems(self) -> tuple[str, ...]:
        """Names of the file systems listed by a shared space: the domain's default space settings offer
        them, as a user profile does for private spaces."""
        shared = {s.name for s in self.spaces if s.sharing == "shared"}
        return tuple(fs.name for fs in self.file_systems if shared & set(fs.spaces))

    def _file_system_references(self, user_names: list[str]) -> list[FieldError]:
        problems: list[FieldError] = []
        space_names = [space.name for space in self.spaces]
        for index, file_system in enumerate(self.file_systems):
            for user_index, user in enumerate(file_system.users):
                if user not in user_names:
                    problems.append(
                        FieldError(
                            f"'{user}' is not a user of this domain",
                            f"list one of its users ({', '.join(user_names) or 'none yet'})",
                            at=f"file_systems[{index}].users[{user_index}]",
                        )
                    )
            for space_index, space in enumerate(file_system.spaces):
                if space not in space_names:
                    problems.append(
                        FieldError(
                            f"'{space}' is not a space of this domain",
                            f"list one of its spaces ({', '.join(space_names) or 'none yet'})",
                            at=f"file_systems[{index}].spaces[{space_index}]",
                        )
                    )
        if problems:
            return problems
        mounts = [
            (f"user '{user}'", self.user_file_systems(user), MAX_FILE_SYSTEMS_PER_USER) for user in user_names
        ]
        mounts += [
            (f"space '{space.name}'", self.space_file_systems(space), MAX_FILE_SYSTEMS_PER_SPACE)
            for space in self.spaces
        ]
        mounts += [
            ("the shared spaces", self.shared_space_file_systems(), MAX_FILE_SYSTEMS_FOR_SHARED_SPACES)
        ]
        for owner, names, limit in mounts:
            if len(names) > limit:
                problems.append(
                    FieldError(
                        f"{owner} would mount {len(names)} file systems ({', '.join(names)}), and SageMaker "
                        f"allows at most {limit}",
                        "attach fewer file systems to it",
                        at="file_systems",
                    )
                )
        return problems


class StudioConfig(FrozenModel):
    personas: dict[SageMakerName, PersonaConfig] = Field(min_length=1)
    domains: tuple[DomainConfig, ...] = Field(min_length=1)

    def _instance_types_allowed(self, domain_index: int, domain: DomainConfig) -> list[FieldError]:
        """Defaults and space instance types a user's persona may not start would fail only at app start."""
        problems: list[FieldError] = []
        defaults = {
            "jupyterlab.default_instance_type": domain.jupyterlab.default_instance_type,
            "code_editor.default_instance_type": domain.code_editor.default_instance_type,
        }
        personas_of = {user.name: user.persona for user in domain.users}
        for user_index, user in enumerate(domain.users):
            allowed = self.personas[user.persona].app_instance_types if user.persona in self.personas else ()
            for field_name, instance_type in defaults.items():
                if allowed and instance_type not in allowed:
                    problems.append(
                        FieldError(
                            f"{instance_type} is not in the app_instance_types of persona "
                            f"'{user.persona}', so users[{user_index}] '{user.name}' could not start it",
                            f"pick a default the persona allows or add it to personas.{user.persona}",
                            at=f"domains[{domain_index}].{field_name}",
                        )
                    )
        shared_persona = domain.shared_space_persona or domain.default_persona
        for space_index, space in enumerate(domain.spaces):
            # A private space runs with its owner's role; every shared space with the shared-space role.
            persona = personas_of.get(space.owner) if space.sharing == "private" else shared_persona
            if space.instance_type is None or persona is None or persona not in self.personas:
                continue
            allowed = self.personas[persona].app_instance_types
            if allowed and space.instance_type not in allowed:
                problems.append(
                    FieldError(
                        f"'{space.name}' uses {space.instance_type}, which persona '{persona}' (whose role "
                        "the space runs with) may not start",
                        f"pick an instance type of personas.{persona}.app_instance_types or add it there",
                        at=f"domains[{domain_index}].spaces[{space_index}].instance_type",
                    )
                )
        return problems

    @model_validator(mode="after")
    def _references(self) -> StudioConfig:
        problems: list[FieldError] = []
        try:
            _unique(tuple(domain.name for domain in self.domains), "domain names", at="domains")
        except FieldError as problem:
            problems.append(problem)
        known = ", ".join(sorted(self.personas))
        for domain_index, domain in enumerate(self.domains):
            personas_named = {"default_persona": domain.default_persona}
            if domain.shared_space_persona is not None:
                personas_named["shared_space_persona"] = domain.shared_space_persona
            for field_name, persona in personas_named.items():
                if persona not in self.personas:
                    problems.append(
                        FieldError(
                            f"'{persona}' is not a persona",
                            f"use one of {known}",
                            at=f"domains[{domain_index}].{field_name}",
                        )
                    )
            problems.extend(self._instance_types_allowed(domain_index, domain))
            for user_index, user in enumerate(domain.users):
                if user.persona not in self.personas:
                    problems.append(
                        FieldError(
                            f"'{user.persona}' is not a persona",
                            f"use one of {known}",
                            at=f"domains[{domain_index}].users[{user_index}].persona",
                        )
                    )
        raise_all(problems)
        return self


# --- images --------------------------------------------------------------------------------------

# ECR's repository name pattern, without namespaces: the name is also a SageMaker image name.
REPOSITORY_NAME_PATTERN = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
IMAGE_TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
IMAGE_DIGEST_PATTERN = re.compile(r"sha256:[0-9a-f]{64}")
BuildComputeType = Literal[
    "BUILD_GENERAL1_SMALL",
    "BUILD_GENERAL1_MEDIUM",
    "BUILD_GENERAL1_LARGE",
    "BUILD_GENERAL1_XLARGE",
    "BUILD_GENERAL1_2XLARGE",
]


class StudioImageConfig(FrozenModel):
    """Makes a repository's image a Studio (JupyterLab) image, pinned to one immutable tag or digest."""

    image_tag: StrictStr | None = None
    image_digest: StrictStr | None = None
    display_name: StrictStr | None = Field(default=None, min_length=1, max_length=128)
    pushed: StrictBool = Field(
        default=True,
        description="false until `mlplatform build-image` has pushed the pinned tag or digest: SageMaker "
        "reads the image when the Studio image version is created, so until then the platform creates "
        "neither the Studio image nor its place in the domains (see `make first-deploy-plan`)",
    )

    @model_validator(mode="after")
    def _pinned_once(self) -> StudioImageConfig:
        if (self.image_tag is None) == (self.image_digest is None):
            raise FieldError(
                "has both or neither of image_tag and image_digest",
                "set exactly one of image_tag (an immutable tag) or image_digest (sha256:...)",
            )
        if self.image_tag is not None and not IMAGE_TAG_PATTERN.fullmatch(self.image_tag):
            raise FieldError(
                f"'{self.image_tag}' is not a valid image tag",
                "use letters, digits, _ . and - (not starting with . or -), at most 128",
                at="image_tag",
            )
        if self.image_digest is not None and not IMAGE_DIGEST_PATTERN.fullmatch(self.image_digest):
            raise FieldError(
                f"'{self.image_digest}' is not an image digest",
                "give it as sha256:<64 hex digits>",
                at="image_digest",
            )
        return self

    @property
    def reference(self) -> str:
        """What follows the repository URI: `:tag` or `@sha256:...`."""
        return f":{self.image_tag}" if self.image_tag is not None else f"@{self.image_digest}"


class RepositoryConfig(FrozenModel):
    """An ECR repository the platform builds images into (and serving accounts pull from)."""

    name: StrictStr = Field(min_length=2, max_length=63)
    keep_tagged_images: StrictInt = Field(default=30, ge=1, le=1000)
    expire_untagged_after_days: StrictInt = Field(default=7, ge=1, le=365)
    studio_image: StudioImageConfig | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not REPOSITORY_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a valid repository name",
                "use lower-case letters and digits, separated by single '.', '_' or '-'",
            )
        return value


class ImageBuildConfig(FrozenModel):
    """The CodeBuild project that builds images from uploaded folders."""

    compute_type: BuildComputeType = "BUILD_GENERAL1_MEDIUM"
    in_vpc: StrictBool = Field(
        default=False,
        description="Run builds in the environment's isolated subnets: base images then come only from ECR "
        "(the platform's and AWS's registries), nothing from the internet",
    )
    timeout_minutes: StrictInt = Field(default=60, ge=5, le=480)
    log_retention_days: WholeDays = 90
    source_retention_days: StrictInt = Field(default=7, ge=1, le=90)
    base_image_accounts: tuple[AccountId, ...] = Field(
        default=(),
        description="More ECR registries (account ids) that Dockerfiles may start FROM, besides the AWS "
        "Deep Learning Containers registry of the region",
    )


class ImagesConfig(FrozenModel):
    build: ImageBuildConfig = ImageBuildConfig()
    repositories: tuple[RepositoryConfig, ...] = Field(min_length=1)

    @field_validator("repositories")
    @classmethod
    def _unique_repositories(cls, value: tuple[RepositoryConfig, ...]) -> tuple[RepositoryConfig, ...]:
        _unique(tuple(repository.name for repository in value), "repository names")
        return value

    @property
    def studio_images(self) -> dict[str, RepositoryConfig]:
        """Every repository with a studio_image, pushed or not (domains may name any of them)."""
        return {repository.name: repository for repository in self.repositories if repository.studio_image}

    @property
    def pushed_studio_images(self) -> dict[str, RepositoryConfig]:
        """The Studio images the platform creates: those whose pinned image is in ECR."""
        return {
            name: repository
            for name, repository in self.studio_images.items()
            if repository.studio_image is not None and repository.studio_image.pushed
        }


# --- model registry and cross-account access -----------------------------------------------------

METRIC_NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,127}")


def _number(value: object) -> object:
    # One check, so a string is one problem (a float | int union would report it once per member).
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{value!r} is not a number", "give one such as 0.9, without quotes")
    return float(value)


Number = Annotated[float, BeforeValidator(_number)]


class ModelBaselineConfig(FrozenModel):
    """The quality gate of a model package group: an approval stands only if the metric meets this."""

    metric: StrictStr
    threshold: Number
    comparison: Literal["greater_than_or_equal", "less_than_or_equal"] = "greater_than_or_equal"

    @field_validator("metric")
    @classmethod
    def _metric_name(cls, value: str) -> str:
        if not METRIC_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a metric name", "use a letter, then letters, digits, '_', '.' or '-'"
            )
        return value

    @field_validator("threshold")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise FieldError(f"{value} is not a finite number", "give a threshold such as 0.8")
        return value


class ModelPackageGroupConfig(FrozenModel):
    """A model package group: the versions of one model, their metrics and approval status."""

    name: SageMakerName
    description: StrictStr = Field(
        min_length=1, max_length=1024, description="Create-only: changing it replaces the group"
    )
    baseline: ModelBaselineConfig | None = None
    share_with_ram: StrictBool = Field(
        default=False, description="Also share the group with the served accounts through AWS RAM"
    )
    tags: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="On the group, besides the environment's tags (e.g. owner, use case)",
    )

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _valid_tag_map(value)


class ModelRegistryConfig(FrozenModel):
    groups: tuple[ModelPackageGroupConfig, ...] = Field(min_length=1)
    notification_emails: tuple[StrictStr, ...] = Field(
        default=(), description="Subscribed (after confirmation) to approval-guard notifications"
    )

    @field_validator("groups")
    @classmethod
    def _unique_groups(
        cls, value: tuple[ModelPackageGroupConfig, ...]
    ) -> tuple[ModelPackageGroupConfig, ...]:
        _unique(tuple(group.name for group in value), "model package group names")
        return value

    @field_validator("notification_emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _email_addresses(value)


class CrossAccountConfig(FrozenModel):
    """Extra conditions on the roles that trusted environments assume in this account."""

    external_id: StrictStr | None = Field(
        default=None,
        description="Required as sts:ExternalId when the promotion role assumes the deployment role",
    )
    organization_id: StrictStr | None = Field(
        default=None, description="The caller must belong to this AWS Organization (aws:PrincipalOrgID)"
    )
    bootstrap_qualifier: StrictStr = Field(
        default="hnb659fds",
        pattern=r"^[a-z0-9]{1,10}$",
        description="`cdk bootstrap --qualifier` of this account: its CloudFormation role creates models "
        "from the trusted environments' packages, so their registries name it",
    )

    @field_validator("external_id")
    @classmethod
    def _external_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[\w+=,.@:/-]{2,1224}", value):
            raise FieldError(
                f"{value!r} is not an external id",
                "use 2-1224 letters, digits or the characters + = , . @ : / - _",
            )
        return value

    @field_validator("organization_id")
    @classmethod
    def _organization_id(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"o-[a-z0-9]{10,32}", value):
            raise FieldError(f"'{value}' is not an AWS Organizations id", "give one such as o-a1b2c3d4e5")
        return value


# --- IAM guardrails ------------------------------------------------------------------------------

# IAM allows any printable ASCII in a path; the platform keeps to the characters of IAM names, so a path
# carries no ARN wildcard (`*`, `?`) into aws:PrincipalArn conditions, and no empty segment.
IAM_PATH_PATTERN = re.compile(r"/([\w+=,.@-]+/)*", re.ASCII)
IAM_PATH_MAX_LENGTH = 512
# A customer-managed (12-digit account) or AWS-managed (`aws`) policy, with an optional path.
MANAGED_POLICY_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}|aws):policy/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,128}",
    re.ASCII,
)


def aws_partition(region: str) -> str:
    """The partition of a region's ARNs (the sample's regions are all in `aws`)."""
    return "aws-cn" if region.startswith("cn-") else "aws"


class PermissionsBoundaryConfig(FrozenModel):
    """The permissions boundary of every role the platform creates: exactly one of an existing managed
    policy (`managed_policy_arn`) or the platform's own (`create: true`)."""

    managed_policy_arn: StrictStr | None = Field(
        default=None, description="An existing managed policy of this account (or AWS-managed)"
    )
    create: StrictBool = Field(
        default=False,
        description="The platform creates `<env>-sagemaker-platform-boundary` (stack Boundary) and uses it",
    )

    @field_validator("managed_policy_arn")
    @classmethod
    def _policy_arn(cls, value: str | None) -> str | None:
        if value is not None and not MANAGED_POLICY_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a managed policy ARN",
                "give one such as arn:aws:iam::123456789012:policy/my-boundary (account: 12 digits, or 'aws' "
                "for an AWS-managed policy, an optional path, a name of letters, digits and + = , . @ _ -)",
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> PermissionsBoundaryConfig:
        if (self.managed_policy_arn is None) != self.create:
            raise FieldError(
                "has both or neither of managed_policy_arn and create: true",
                "set exactly one of managed_policy_arn (an existing policy) or create: true (the platform "
                "creates its own boundary policy)",
            )
        return self


class IamConfig(FrozenModel):
    """The path and permissions boundary of every IAM role the platform creates, CDK's own included."""

    role_path: StrictStr = Field(
        default="/",
        description="Create-only on every role: changing it replaces the roles (fixed names collide)",
    )
    permissions_boundary: PermissionsBoundaryConfig | None = None

    @field_validator("role_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not 1 <= len(value) <= IAM_PATH_MAX_LENGTH or not IAM_PATH_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a role path",
                f"start and end it with '/', keep it within {IAM_PATH_MAX_LENGTH} characters, and use only "
                "letters, digits and + = , . @ _ - in non-empty segments, e.g. /sagemaker-platform/",
            )
        return value


# --- pipelines -----------------------------------------------------------------------------------

# The DAGs pipeline_defs renders; a test checks this list against pipeline_defs.DEFINITIONS.
PipelineDefinitionName = Literal["model_build", "batch_inference"]
# SageMaker allows 256 characters; job names are `<pipeline>-<step>` within 63, hence 52.
PIPELINE_NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,51}")
ISO_DURATION_PATTERN = re.compile(r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?")
SCHEDULE_PATTERN = re.compile(r"(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\([^)]+\))")


def _schedule_expression(value: str) -> str:
    if not SCHEDULE_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not a schedule", "use one such as rate(1 day) or cron(0 6 * * ? *)")
    return value


# An EventBridge schedule, for pipelines and notebook jobs alike.
ScheduleExpression = Annotated[StrictStr, AfterValidator(_schedule_expression)]
S3_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9!_.*'()/-]{1,512}")


class PipelineTriggerConfig(FrozenModel):
    """What starts a run besides a person: new data under a prefix of the data bucket, a schedule."""

    data_prefix: StrictStr | None = Field(
        default=None, description="A new object under this prefix of the data bucket starts a run with it"
    )
    schedule: ScheduleExpression | None = Field(
        default=None, description="rate(...) or cron(...) (EventBridge)"
    )

    @field_validator("data_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        if value is not None and (not S3_PREFIX_PATTERN.fullmatch(value) or value.startswith("/")):
            raise FieldError(f"'{value}' is not an S3 key prefix", "give one such as incoming/churn/")
        return value


class PipelineConfig(FrozenModel):
    """A SageMaker pipeline deployed from a DAG in pipeline_defs/."""

    name: StrictStr = Field(min_length=1, max_length=52)
    definition: PipelineDefinitionName
    description: StrictStr = Field(default="", max_length=3072)
    model_package_group: StrictStr | None = Field(
        default=None, description="model_build registers into this group of the environment's registry"
    )
    max_parallel_steps: StrictInt = Field(default=4, ge=1, le=256)
    cache_expire_after: StrictStr | None = Field(
        default=None,
        description="ISO 8601 duration steps are cached for. Caching is keyed on a step's arguments, not on "
        "the data behind them: a data trigger passes the object's version, a schedule does not (refused)",
    )
    trigger: PipelineTriggerConfig = PipelineTriggerConfig()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PIPELINE_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a pipeline name",
                "use letters, digits and hyphens, up to 52 (jobs are named <pipeline>-<step> within 63)",
            )
        return value

    @field_validator("cache_expire_after")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None and not ISO_DURATION_PATTERN.fullmatch(value):
            raise FieldError(f"'{value}' is not an ISO 8601 duration", "give one such as P30D or PT12H")
        return value

    @model_validator(mode="after")
    def _group_for_model_build(self) -> PipelineConfig:
        if self.definition == "model_build" and self.model_package_group is None:
            raise FieldError(
                "a model_build pipeline registers models and needs a group for them",
                "name a group of model_registry.groups",
                at="model_package_group",
            )
        return self


# --- notebook jobs -------------------------------------------------------------------------------

# Scheduled notebooks live in this folder of the repository; the configuration names them relative to it.
NOTEBOOKS_DIR = Path(__file__).resolve().parent.parent / "notebooks"
# SageMaker Distribution image versions are tags such as 3.0.0 or 2.6-cpu.
DISTRIBUTION_VERSION_PATTERN = re.compile(r"\d+(\.\d+){0,2}(-(cpu|gpu))?")
# Training instance types (a notebook job is a training job): ml.<family>.<size>.
TRAINING_INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
# Papermill injects parameters as Python assignments; SageMaker pipeline parameter names allow the same.
NOTEBOOK_PARAMETER_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
KERNEL_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What in a notebook's folder stays behind (glob patterns on names): hidden files, Python and Jupyter caches.
NOTEBOOK_FOLDER_EXCLUDED = (".*", "__pycache__", ".ipynb_checkpoints")


class NotebookImageConfig(FrozenModel):
    """What the notebook runs in: a SageMaker Distribution version, or one of the platform's Studio images
    (a repository under images.repositories with a studio_image, whose kernel `kernel_name` is registered)."""

    sagemaker_distribution: StrictStr | None = Field(
        default=None, description="A SageMaker Distribution image version, e.g. 3.0.0 (CPU) or 3.0.0-gpu"
    )
    studio_image: StrictStr | None = Field(
        default=None, description="A repository of images.repositories that has a studio_image"
    )
    kernel_name: StrictStr = Field(default="python3", description="A kernel registered in the image")

    @model_validator(mode="after")
    def _one_image(self) -> NotebookImageConfig:
        if (self.sagemaker_distribution is None) == (self.studio_image is None):
            raise FieldError(
                "has both or neither of sagemaker_distribution and studio_image",
                "set exactly one of sagemaker_distribution (a version such as 3.0.0) or studio_image (a "
                "repository of images.repositories with a studio_image)",
            )
        if self.sagemaker_distribution is not None and not DISTRIBUTION_VERSION_PATTERN.fullmatch(
            self.sagemaker_distribution
        ):
            raise FieldError(
                f"'{self.sagemaker_distribution}' is not an image version",
                "give one such as 3.0.0, 3.0 or 3.0.0-gpu",
                at="sagemaker_distribution",
            )
        if not KERNEL_NAME_PATTERN.fullmatch(self.kernel_name):
            raise FieldError(
                f"'{self.kernel_name}' is not a kernel name", "give one such as python3", at="kernel_name"
            )
        return self


class NotebookStudioViewConfig(FrozenModel):
    """Where Studio's notebook-jobs view shows the job: the whole domain, or one user profile in it."""

    domain: StrictStr = Field(description="A domain of studio.domains")
    user_profile: StrictStr | None = Field(
        default=None, description="A user of that domain; None: every user and space of the domain"
    )


class NotebookJobRoleConfig(FrozenModel):
    """A Studio persona's execution role in one domain, for a notebook job that should run with what that
    persona may do (its instance types, its scratch prefix for output) instead of the environment's
    notebook job role."""

    persona: StrictStr = Field(description="A persona of studio.personas used in `domain`")
    domain: StrictStr = Field(description="A domain of studio.domains: persona roles are per domain")


class NotebookJobConfig(FrozenModel):
    """A notebook from `notebooks/`, run with parameters as a SageMaker pipeline of one notebook job (a
    training job started by the notebook scheduler's entry point), on a schedule and on demand."""

    name: StrictStr = Field(min_length=1, max_length=52, description="The pipeline's name")
    description: StrictStr = Field(default="", max_length=3072)
    notebook: StrictStr = Field(description="The .ipynb file, relative to the repository's notebooks/ folder")
    image: NotebookImageConfig
    instance_type: StrictStr = "ml.m5.large"
    parameters: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Papermill parameters (strings); each is also a pipeline parameter a run may override",
    )
    schedule: ScheduleExpression | None = Field(
        default=None, description="rate(...) or cron(...) (EventBridge)"
    )
    max_runtime_minutes: StrictInt = Field(default=120, ge=1, le=2 * 24 * 60)
    volume_size_gb: StrictInt = Field(default=30, ge=1, le=512)
    studio_view: NotebookStudioViewConfig | None = Field(
        default=None, description="Tag the job so that Studio's notebook-jobs view lists it"
    )
    run_as: NotebookJobRoleConfig | None = Field(
        default=None,
        description="The role the pipeline and its job run as: None for the environment's notebook job role "
        "(<env>-sagemaker-platform-notebook-jobs), or a persona's execution role in a domain",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not PIPELINE_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a pipeline name",
                "use letters, digits and hyphens, up to 52 (the job is named <name>-notebook within 63)",
            )
        return value

    @field_validator("notebook")
    @classmethod
    def _notebook(cls, value: str) -> str:
        relative = Path(value)
        if relative.is_absolute() or ".." in relative.parts or relative.suffix != ".ipynb":
            raise FieldError(
                f"'{value}' is not a notebook path relative to notebooks/",
                "give one without '..' or a leading '/', ending in .ipynb, e.g. report/report.ipynb",
            )
        if not (NOTEBOOKS_DIR / relative).is_file():
            raise FieldError(
                f"notebook '{value}' not found (looked for {NOTEBOOKS_DIR / relative})",
                "add the notebook there or fix the path",
            )
        return value

    @field_validator("instance_type")
    @classmethod
    def _instance_type(cls, value: str) -> str:
        if not TRAINING_INSTANCE_TYPE_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not a SageMaker training instance type", "use one such as ml.m5.large"
            )
        return value

    @field_validator("parameters")
    @classmethod
    def _parameters(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(name for name in value if not NOTEBOOK_PARAMETER_PATTERN.fullmatch(name))
        if bad:
            raise FieldError(
                f"parameter names {', '.join(bad)} are not Python identifiers, and papermill assigns them as "
                "variables",
                "use letters, digits and _, not starting with a digit, at most 64",
            )
        return value

    @property
    def notebook_path(self) -> Path:
        return NOTEBOOKS_DIR / self.notebook

    @property
    def notebook_files_excluded(self) -> tuple[str, ...]:
        """Glob patterns (matched against each name, as CDK's asset exclusion does) of what in the notebook's
        folder does not ship next to it: the notebook itself (its own asset), hidden files, caches."""
        return (self.notebook_path.name, *NOTEBOOK_FOLDER_EXCLUDED)

    @property
    def notebook_files(self) -> tuple[Path, ...]:
        """The files that ship next to the notebook, sorted: the rest of its folder when the notebook has a
        folder of its own under notebooks/ (a notebook directly in notebooks/ ships alone)."""
        folder = self.notebook_path.parent
        if folder == NOTEBOOKS_DIR:
            return ()
        excluded = self.notebook_files_excluded
        return tuple(
            sorted(
                path
                for path in folder.rglob("*")
                if path.is_file()
                and not any(
                    fnmatch.fnmatchcase(part, pattern)
                    for part in path.relative_to(folder).parts
                    for pattern in excluded
                )
            )
        )


# --- serving and monitoring ----------------------------------------------------------------------

# SageMaker hosting instance types: ml.<family>.<size>.
HOSTING_INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9]+\.[a-z0-9]+")
S3_URI_PATTERN = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S+")
# Model Monitor runs at most hourly; the job must finish within the hour.
MONITORING_SCHEDULES = {"hourly": "cron(0 * ? * * *)", "daily": "cron(0 0 ? * * *)"}
# Model Monitor runs at most hourly, on the hour: every hour, at hour H, or every N hours from H (or *).
MONITORING_CRON_PATTERN = re.compile(r"cron\(0 (?P<start>\*|\d{1,2})(/(?P<step>\d{1,2}))? \? \* \* \*\)")


def _hosting_instance_type(value: str) -> str:
    if not HOSTING_INSTANCE_TYPE_PATTERN.fullmatch(value):
        raise FieldError(f"'{value}' is not a SageMaker instance type", "use one such as ml.m5.large")
    return value


HostingInstanceType = Annotated[StrictStr, AfterValidator(_hosting_instance_type)]


class ModelPackageRef(FrozenModel):
    """One version of a model package group in a trusted environment's registry. Pinning the version here
    makes every promotion a reviewed configuration change; deploying checks the version is Approved."""

    source: EnvironmentName = Field(description="The environment whose registry holds the group (trusted)")
    group: SageMakerName
    version: StrictInt = Field(ge=1, description="The approved version to serve")
    approved: StrictBool = Field(
        default=True,
        description="false until the version is registered and approved: deploying reads it and fails "
        "otherwise, so until then the platform leaves the endpoint out (see `make first-deploy-plan`)",
    )


class InstancesConfig(FrozenModel):
    """A real-time endpoint on instances (in the VPC, with data capture and monitoring)."""

    instance_type: HostingInstanceType
    initial_instance_count: StrictInt = Field(default=1, ge=1, le=100)


class ServerlessConfig(FrozenModel):
    """A serverless endpoint: no VPC placement, data capture or Model Monitor (SageMaker supports none of
    them for serverless), so use it only where that is acceptable."""

    memory_size_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144]
    max_concurrency: StrictInt = Field(ge=1, le=200)
    provisioned_concurrency: StrictInt | None = Field(default=None, ge=1, le=200)

    @model_validator(mode="after")
    def _provisioned_within_max(self) -> ServerlessConfig:
        if self.provisioned_concurrency is not None and self.provisioned_concurrency > self.max_concurrency:
            raise FieldError(
                f"{self.provisioned_concurrency} exceeds max_concurrency {self.max_concurrency}",
                "lower it or raise max_concurrency",
                at="provisioned_concurrency",
            )
        return self


class AutoscalingConfig(FrozenModel):
    """Target tracking on invocations per instance (SageMakerVariantInvocationsPerInstance, per minute)."""

    min_instances: StrictInt = Field(ge=1, le=100)
    max_instances: StrictInt = Field(ge=1, le=100)
    target_invocations_per_instance: StrictInt = Field(ge=1, le=100_000)
    scale_in_cooldown_seconds: StrictInt = Field(default=300, ge=0, le=3600)
    scale_out_cooldown_seconds: StrictInt = Field(default=60, ge=0, le=3600)

    @model_validator(mode="after")
    def _bounds(self) -> AutoscalingConfig:
        if self.min_instances > self.max_instances:
            raise FieldError(
                f"{self.min_instances} is above max_instances {self.max_instances}",
                "lower it or raise max_instances",
                at="min_instances",
            )
        return self


class DataCaptureConfig(FrozenModel):
    """Requests and responses written to the environment's encrypted capture bucket."""

    sampling_percentage: StrictInt = Field(default=100, ge=1, le=100)


class MonitoringBaselineConfig(FrozenModel):
    """Baseline files given explicitly, for packages registered without data-quality baselines."""

    constraints_uri: StrictStr
    statistics_uri: StrictStr

    @field_validator("constraints_uri", "statistics_uri")
    @classmethod
    def _s3_uri(cls, value: str) -> str:
        if not S3_URI_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an S3 object URI", "give one such as s3://bucket/path/constraints.json"
            )
        return value


class DataQualityMonitoringConfig(FrozenModel):
    """A Model Monitor data-quality schedule on the captured requests."""

    schedule: StrictStr = Field(default="hourly", description="hourly, daily or a Model Monitor cron(...)")
    instance_type: HostingInstanceType = "ml.m5.large"
    volume_size_gb: StrictInt = Field(default=20, ge=1, le=512)
    max_runtime_minutes: StrictInt = Field(default=50, ge=1, le=60)
    baseline: MonitoringBaselineConfig | None = Field(
        default=None,
        description="None: the constraints and statistics the model package carries (read at deploy)",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        if value in MONITORING_SCHEDULES:
            return value
        match = MONITORING_CRON_PATTERN.fullmatch(value)
        start, step = (match.group("start"), match.group("step")) if match else ("", None)
        if (
            match is None
            or (start != "*" and int(start) > 23)
            or (step is not None and not 1 <= int(step) <= 24)
        ):
            raise FieldError(
                f"'{value}' is not a monitoring schedule (Model Monitor runs at most hourly, on the hour)",
                "use hourly, daily or a cron such as cron(0 * ? * * *), cron(0 6 ? * * *) or "
                "cron(0 */6 ? * * *)",
            )
        return value

    @property
    def schedule_expression(self) -> str:
        return MONITORING_SCHEDULES.get(self.schedule, self.schedule)


class EndpointAlarmsConfig(FrozenModel):
    """Thresholds of the endpoint's CloudWatch alarms (each over three 5-minute periods, two breaching)."""

    model_latency_p99_ms: Number = Field(default=1000.0, gt=0)
    error_5xx_rate_percent: Number = Field(default=1.0, gt=0, le=100)
    error_4xx_rate_percent: Number = Field(default=5.0, gt=0, le=100)
    no_invocations_minutes: StrictInt | None = Field(
        default=60,
        ge=5,
        le=1440,
        description="Alarm when the endpoint receives no request for this long; null for sporadic traffic",
    )
    cpu_utilization_percent: Number = Field(
        default=80.0, gt=0, description="Average per instance; SageMaker counts 100 per vCPU"
    )
    memory_utilization_percent: Number = Field(default=85.0, gt=0, le=100)


class SmokeTestExpectation(FrozenModel):
    """What a smoke test's answer must look like. Answers are the lines of a CSV response or the items
    of a JSON response's `predictions` (or a top-level list)."""

    answers: StrictInt | None = Field(default=None, ge=0, description="How many answers")
    one_of: tuple[StrictStr, ...] = Field(default=(), description="Every answer is one of these")
    min_value: Number | None = Field(default=None, description="Every answer is a number >= this")
    max_value: Number | None = Field(default=None, description="Every answer is a number <= this")
    contains: StrictStr | None = Field(default=None, description="The raw answer contains this text")

    @model_validator(mode="after")
    def _something_checked(self) -> SmokeTestExpectation:
        if (
            self.answers is None
            and not self.one_of
            and self.min_value is None
            and self.max_value is None
            and self.contains is None
        ):
            raise FieldError("checks nothing", "give answers, one_of, min_value, max_value or contains")
        if self.min_value is not None and self.max_value is not None and self.min_value > self.max_value:
            raise FieldError(
                f"{self.min_value} is above max_value {self.max_value}",
                "swap them or widen the range",
                at="min_value",
            )
        return self


class SmokeTestConfig(FrozenModel):
    """One request `make smoke` sends to the endpoint, and what the answer must be."""

    name: StrictStr = Field(min_length=1, max_length=100)
    content_type: StrictStr = "text/csv"
    accept: StrictStr = "text/csv"
    body: StrictStr = Field(min_length=1, description="The request body, as sent")
    expect: SmokeTestExpectation


class EndpointConfig(FrozenModel):
    """A SageMaker endpoint serving one pinned model package version, monitored and alarmed."""

    name: SageMakerName = Field(
        max_length=50, description="The endpoint's name, which applications call (at most 50 characters)"
    )
    model_package: ModelPackageRef
    instances: InstancesConfig | None = None
    serverless: ServerlessConfig | None = None
    autoscaling: AutoscalingConfig | None = None
    data_capture: DataCaptureConfig | None = Field(
        default=None, description="Default on instances: every request captured; not for serverless"
    )
    monitoring: DataQualityMonitoringConfig | None = Field(
        default=None, description="Default on instances: hourly data-quality schedule; not for serverless"
    )
    alarms: EndpointAlarmsConfig = EndpointAlarmsConfig()
    smoke_tests: tuple[SmokeTestConfig, ...] = Field(
        min_length=1, description="Requests `make smoke` sends after a deployment"
    )

    @model_validator(mode="after")
    def _one_kind_of_capacity(self) -> EndpointConfig:
        if (self.instances is None) == (self.serverless is None):
            raise FieldError(
                "has both or neither of instances and serverless",
                "set exactly one of instances (real-time in the VPC) or serverless",
            )
        if self.serverless is not None:
            raise_all(
                [
                    FieldError(
                        "is not available for serverless endpoints (SageMaker supports no data capture or "
                        "Model Monitor there, and scales them itself)",
                        "remove it or serve from instances",
                        at=name,
                    )
                    for name in ("autoscaling", "data_capture", "monitoring")
                    if getattr(self, name)
                ]
            )
        if self.instances is not None and self.autoscaling is not None:
            count = self.instances.initial_instance_count
            if not self.autoscaling.min_instances <= count <= self.autoscaling.max_instances:
                raise FieldError(
                    f"{count} is outside autoscaling's "
                    f"[{self.autoscaling.min_instances}, {self.autoscaling.max_instances}]",
                    "start within the autoscaling range",
                    at="instances.initial_instance_count",
                )
        _unique(tuple(test.name for test in self.smoke_tests), "smoke test names", at="smoke_tests")
        return self

    @property
    def capture(self) -> DataCaptureConfig | None:
        """The data capture in effect: on for every endpoint on instances."""
        if self.serverless is not None:
            return None
        return self.data_capture or DataCaptureConfig()

    @property
    def data_quality(self) -> DataQualityMonitoringConfig | None:
        """The monitoring in effect: on for every endpoint on instances."""
        if self.serverless is not None:
            return None
        return self.monitoring or DataQualityMonitoringConfig()


class ServingConfig(FrozenModel):
    """The endpoints a serving environment runs, and who hears about their alarms."""

    endpoints: tuple[EndpointConfig, ...] = Field(min_length=1)
    capture_retention_days: StrictInt = Field(
        default=90, ge=1, le=3650, description="Captured requests and monitoring reports expire after this"
    )

    @field_validator("endpoints")
    @classmethod
    def _unique_endpoints(cls, value: tuple[EndpointConfig, ...]) -> tuple[EndpointConfig, ...]:
        _unique(tuple(endpoint.name for endpoint in value), "endpoint names")
        return value

    @property
    def deployed_endpoints(self) -> tuple[EndpointConfig, ...]:
        """The endpoints the platform deploys: those whose pinned version is approved."""
        return tuple(endpoint for endpoint in self.endpoints if endpoint.model_package.approved)


class AlarmsConfig(FrozenModel):
    """Where the environment's CloudWatch alarms go (an encrypted SNS topic) and who is subscribed."""

    emails: tuple[StrictStr, ...] = Field(default=(), description="Subscribed (after confirmation)")

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _email_addresses(value)


class ExperimentsConfig(FrozenModel):
    """A SageMaker managed MLflow tracking server; its artifacts go to the platform's artifact bucket."""

    tracking_server_size: Literal["Small", "Medium", "Large"] = "Small"
    mlflow_version: StrictStr | None = Field(
        default=None, pattern=r"^\d+\.\d+(\.\d+)?$", description="None: SageMaker's default version"
    )
    automatic_model_registration: StrictBool = Field(
        default=False, description="Register MLflow models in the SageMaker model registry automatically"
    )
    weekly_maintenance_window: StrictStr | None = Field(
        default=None, pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$"
    )


# --- kubernetes ----------------------------------------------------------------------------------

# Kubernetes namespaces are DNS labels (RFC 1123). A namespace's name also prefixes the SageMaker names of
# what it creates (`<namespace>-<name>`), which is how its role is kept to its own resources.
K8S_NAMESPACE_PATTERN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# SageMaker's job and model names are at most 63 characters: `<namespace>-` leaves room for a name of 32.
MAX_K8S_NAMESPACE_LENGTH = 30
EKS_CLUSTER_NAME_PATTERN = re.compile(r"[0-9A-Za-z][A-Za-z0-9\-_]{0,99}")
IAM_ROLE_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):role/(?:[\w+=,.@-]+/)*[\w+=,.@-]{1,64}"
)
OIDC_PROVIDER_ARN_PATTERN = re.compile(
    r"arn:(?P<partition>aws[a-z-]*):iam::(?P<account>[0-9]{12}):oidc-provider/"
    r"(?P<issuer>oidc\.eks\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?/id/[0-9A-Fa-f]+)"
)


class KubernetesNamespaceConfig(FrozenModel):
    """A namespace of the cluster whose service accounts may drive SageMaker, as one persona."""

    name: StrictStr = Field(description="The Kubernetes namespace (created if missing)")
    persona: StrictStr = Field(
        description="A persona of studio.personas: its job instance types and network isolation are the "
        "namespace's guardrails; it needs the `jobs` capability"
    )
    pipelines: tuple[StrictStr, ...] = Field(
        default=(), description="Pipelines of `pipelines` applied in this namespace as ACK Pipeline resources"
    )

    @field_validator("name")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if not K8S_NAMESPACE_PATTERN.fullmatch(value) or len(value) > MAX_K8S_NAMESPACE_LENGTH:
            raise FieldError(
                f"'{value}' is not a namespace the platform can use (it prefixes SageMaker job names, which "
                "stop at 63)",
                "use lower-case letters, digits and hyphens, starting and ending with a letter or digit, at "
                f"most {MAX_K8S_NAMESPACE_LENGTH}",
            )
        if value.startswith("kube-") or value in ("default", "kube-system"):
            raise FieldError(
                f"'{value}' is a namespace Kubernetes keeps for itself", "use a team's namespace"
            )
        return value

    @field_validator("pipelines")
    @classmethod
    def _unique_pipelines(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "pipelines")


class KubernetesConfig(FrozenModel):
    """An existing EKS cluster that drives SageMaker through the ACK SageMaker controller (ADR 0017)."""

    cluster_name: StrictStr = Field(description="The existing EKS cluster, in this account and region")
    pod_credentials: Literal["pod_identity", "irsa"] = Field(
        default="pod_identity",
        description="How the controller's pod gets its role: an EKS Pod Identity association (the cluster "
        "runs the eks-pod-identity-agent add-on) or IRSA with the cluster's OIDC provider",
    )
    oidc_provider_arn: StrictStr | None = Field(
        default=None, description="The cluster's IAM OIDC provider (pod_credentials: irsa only)"
    )
    kubectl_role_arn: StrictStr = Field(
        description="A role of this account that is a cluster administrator (an EKS access entry or the "
        "aws-auth map): CloudFormation's kubectl handler assumes it to apply the manifests and the chart"
    )
    controller_namespace: StrictStr = Field(
        default="ack-system", description="Where the controller runs (created by the chart)"
    )
    namespaces: tuple[KubernetesNamespaceConfig, ...] = Field(min_length=1)

    @field_validator("cluster_name")
    @classmethod
    def _cluster_name(cls, value: str) -> str:
        if not EKS_CLUSTER_NAME_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an EKS cluster name",
                "use letters, digits, hyphens and underscores, starting with a letter or digit, at most 100",
            )
        return value

    @field_validator("kubectl_role_arn")
    @classmethod
    def _kubectl_role(cls, value: str) -> str:
        if not IAM_ROLE_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an IAM role ARN", "give one as arn:aws:iam::<account>:role/<name>"
            )
        return value

    @field_validator("oidc_provider_arn")
    @classmethod
    def _oidc_provider(cls, value: str | None) -> str | None:
        if value is not None and not OIDC_PROVIDER_ARN_PATTERN.fullmatch(value):
            raise FieldError(
                f"'{value}' is not an EKS OIDC provider ARN",
                "give one as arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>",
            )
        return value

    @field_validator("controller_namespace")
    @classmethod
    def _controller_namespace(cls, value: str) -> str:
        if not K8S_NAMESPACE_PATTERN.fullmatch(value) or len(value) > 63:
            raise FieldError(
                f"'{value}' is not a Kubernetes namespace name", "use a DNS label (lower-case), at most 63"
            )
        return value

    @field_validator("namespaces")
    @classmethod
    def _unique_namespaces(
        cls, value: tuple[KubernetesNamespaceConfig, ...]
    ) -> tuple[KubernetesNamespaceConfig, ...]:
        _unique(tuple(namespace.name for namespace in value), "namespaces")
        return value

    @property
    def oidc_issuer(self) -> str | None:
        """The provider's issuer host and path, as IRSA's trust conditions name it."""
        if self.oidc_provider_arn is None:
            return None
        match = OIDC_PROVIDER_ARN_PATTERN.fullmatch(self.oidc_provider_arn)
        assert match is not None  # validated above
        return match.group("issuer")


# --- environment ---------------------------------------------------------------------------------


class EnvironmentConfig(FrozenModel):
    """One environment: one AWS account and region, described by `config/<name>.yaml`."""

    name: EnvironmentName
    account_id: AccountId
    region: Region
    retain_stateful_resources: StrictBool = Field(
        default=True,
        description="Retain keys, buckets, Studio domains and spaces on delete and turn on termination "
        "protection. Only a disposable environment (dev) sets false.",
    )
    trusted_environments: tuple[EnvironmentName, ...] = Field(
        default=(), description="Environments whose automation may act in this account (e.g. prod trusts dev)"
    )
    serves_environments: tuple[EnvironmentName, ...] = Field(
        default=(),
        description="Environments that consume this one's artifacts (e.g. dev serves staging, prod)",
    )
    tags: dict[StrictStr, StrictStr] = Field(
        default_factory=dict,
        description="Added to every resource; 'project' and 'environment' are set by the platform",
    )

    @field_validator("tags")
    @classmethod
    def _valid_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _valid_tag_map(value)

    network: NetworkConfig
    images: ImagesConfig | None = None
    model_registry: ModelRegistryConfig | None = None
    cross_account: CrossAccountConfig = CrossAccountConfig()
    iam: IamConfig = IamConfig()
    pipelines: tuple[PipelineConfig, ...] = ()
    studio: StudioConfig | None = None
    serving: ServingConfig | None = None
    alarms: AlarmsConfig = AlarmsConfig()
    experiments: ExperimentsConfig | None = None
    notebook_jobs: tuple[NotebookJobConfig, ...] = ()
    kubernetes: KubernetesConfig | None = None

    @field_validator("pipelines")
    @classmethod
    def _unique_pipelines(cls, value: tuple[PipelineConfig, ...]) -> tuple[PipelineConfig, ...]:
        _unique(tuple(pipeline.name for pipeline in value), "pipeline names")
        return value

    @model_validator(mode="after")
    def _pipelines_register_into_known_groups(self) -> EnvironmentConfig:
        groups = {group.name for group in self.model_registry.groups} if self.model_registry else set()
        raise_all(
            [
                FieldError(
                    f"'{pipeline.model_package_group}' is not a group of model_registry",
                    f"use one of its groups ({', '.join(sorted(groups)) or 'none yet'})",
                    at=f"pipelines[{index}].model_package_group",
                )
                for index, pipeline in enumerate(self.pipelines)
                if pipeline.model_package_group is not None and pipeline.model_package_group not in groups
            ]
        )
        return self

    @model_validator(mode="after")
    def _scheduled_runs_are_never_cached(self) -> EnvironmentConfig:
        # The data trigger passes the object's version id and ETag, which are in the first step's cache key;
        # a schedule passes nothing, so each run has the same arguments whatever the data at the key holds.
        raise_all(
            [
                FieldError(
                    f"'{pipeline.cache_expire_after}' with trigger.schedule '{pipeline.trigger.schedule}': a "
                    "scheduled run starts with the same parameters every time, so its steps would be served "
                    "from the cache whatever data is at the input key",
                    "remove cache_expire_after, or start runs from new data with trigger.data_prefix instead "
                    "of a schedule",
                    at=f"pipelines[{index}].cache_expire_after",
                )
                for index, pipeline in enumerate(self.pipelines)
                if pipeline.trigger.schedule is not None and pipeline.cache_expire_after is not None
            ]
        )
        return self

    @model_validator(mode="after")
    def _notebook_jobs_fit_the_environment(self) -> EnvironmentConfig:
        problems: list[FieldError] = []
        names = [pipeline.name for pipeline in self.pipelines]
        studio_images = self.images.studio_images if self.images is not None else {}
        domains = {domain.name: domain for domain in self.studio.domains} if self.studio else {}
        for index, job in enumerate(self.notebook_jobs):
            path = f"notebook_jobs[{index}]"
            if job.name in names:
                problems.append(
                    FieldError(
                        f"'{job.name}' is already the name of a pipeline or notebook job here",
                        "give each SageMaker pipeline a name of its own",
                        at=f"{path}.name",
                    )
                )
            names.append(job.name)
            image = job.image.studio_image
            if image is not None and image not in studio_images:
                problems.append(
                    FieldError(
                        f"'{image}' is not a repository with a studio_image under images.repositories",
                        "use one of the Studio images here "
                        f"({', '.join(sorted(studio_images)) or 'none yet'})",
                        at=f"{path}.image.studio_image",
                    )
                )
            problems.extend(self._notebook_job_role_problems(path, job, domains))
            view = job.studio_view
            if view is None:
                continue
            if view.domain not in domains:
                problems.append(
                    FieldError(
                        f"'{view.domain}' is not a domain of studio.domains",
                        f"use one of {', '.join(sorted(domains)) or 'no domain yet'}",
                        at=f"{path}.studio_view.domain",
                    )
                )
            elif view.user_profile is not None:
                users = sorted(user.name for user in domains[view.domain].users)
                if view.user_profile not in users:
                    problems.append(
                        FieldError(
                            f"'{view.user_profile}' is not a user of domain '{view.domain}'",
                            f"use one of its users ({', '.join(users) or 'none yet'})",
                            at=f"{path}.studio_view.user_profile",
                        )
                    )
        raise_all(problems)
        return self

    def _notebook_job_role_problems(
        self, path: str, job: NotebookJobConfig, domains: Mapping[str, DomainConfig]
    ) -> list[FieldError]:
        """A persona role must exist where named and be allowed to start the job SageMaker starts for it."""
        run_as = job.run_as
        if run_as is None:
            return []
        path = f"{path}.run_as"
        personas = self.studio.personas if self.studio is not None else {}
        if run_as.domain not in domains:
            return [
                FieldError(
                    f"'{run_as.domain}' is not a domain of studio.domains",
                    f"use one of {', '.join(sorted(domains)) or 'no domain yet'}",
                    at=f"{path}.domain",
                )
            ]
        domain = domains[run_as.domain]
        used = sorted(
            {domain.default_persona, domain.shared_space_persona or domain.default_persona}
            | {user.persona for user in domain.users}
        )
        if run_as.persona not in used:
            return [
                FieldError(
                    f"'{run_as.persona}' has no execution role in domain '{run_as.domain}' (a domain has "
                    f"roles for the personas its users, default and shared spaces use: {', '.join(used)})",
                    "name one of those, or give a user of the domain that persona",
                    at=f"{path}.persona",
                )
            ]
        persona = personas[run_as.persona]
        problems: list[FieldError] = []
        if not {"jobs", "notebook_jobs"} & set(persona.capabilities):
            problems.append(
                FieldError(
                    f"persona '{run_as.persona}' may not start training jobs, and a notebook job is one",
                    "give it the 'notebook_jobs' (or 'jobs') capability under studio.personas, or remove "
                    "run_as to use the environment's notebook job role",
                    at=f"{path}.persona",
                )
            )
        elif job.instance_type not in persona.job_instance_types:
            problems.append(
                FieldError(
                    f"instance_type '{job.instance_type}' is not one of persona '{run_as.persona}''s "
                    f"job_instance_types ({', '.join(persona.job_instance_types)})",
                    "use one of those, or add it to the persona",
                    at=f"{path}.persona",
                )
            )
        if persona.network_isolation:
            problems.append(
                FieldError(
                    f"persona '{run_as.persona}' requires network isolation, and a notebook job runs its "
                    "kernel with network access (to read data and call AWS)",
                    "run it as another persona or remove run_as",
                    at=f"{path}.persona",
                )
            )
        view = job.studio_view
        if view is not None and view.domain != run_as.domain:
            problems.append(
                FieldError(
                    f"'{run_as.domain}' differs from studio_view.domain '{view.domain}', and a persona role "
                    "may not tag a job for another domain (domain isolation)",
                    "use the same domain",
                    at=f"{path}.domain",
                )
            )
        return problems

    @field_validator("trusted_environments", "serves_environments")
    @classmethod
    def _unique_environments(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "environments")

    @model_validator(mode="after")
    def _custom_images_are_studio_images(self) -> EnvironmentConfig:
        if self.studio is None:
            return self
        if self.images is None:
            builders = sorted(n for n, p in self.studio.personas.items() if "image_builds" in p.capabilities)
            if builders:
                raise SeveralFieldsError(
                    FieldError(
                        "has the image_builds capability, but this environment has no images section (no "
                        "build path to use)",
                        "add an images section or remove the capability",
                        at=f"studio.personas.{name}.capabilities",
                    )
                    for name in builders
                )
        studio_images = self.images.studio_images if self.images is not None else {}
        raise_all(
            [
                FieldError(
                    f"'{name}' is not a repository with a studio_image under images.repositories",
                    f"use one of the Studio images here ({', '.join(sorted(studio_images)) or 'none yet'})",
                    at=f"studio.domains[{index}].custom_images[{image_index}]",
                )
                for index, domain in enumerate(self.studio.domains)
                for image_index, name in enumerate(domain.custom_images)
                if name not in studio_images
            ]
        )
        return self

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        if self.network.new_vpc is not None:
            zones = [
                (f"network.new_vpc.availability_zones[{index}]", zone)
                for index, zone in enumerate(self.network.new_vpc.availability_zones)
            ]
        else:
            assert self.network.existing_vpc is not None
            zones = [
                (f"network.existing_vpc.subnets[{index}].availability_zone", subnet.availability_zone)
                for index, subnet in enumerate(self.network.existing_vpc.subnets)
            ]
        problems = [
            FieldError(
                f"availability zone '{zone}' is not in region {self.region}",
                f"name one of its zones ({self.region}a, {self.region}b, ...)",
                at=path,
            )
            for path, zone in zones
            if not (zone.startswith(self.region) and re.fullmatch(r"[a-z]", zone[len(self.region) :]))
        ]
        for field_name in ("trusted_environments", "serves_environments"):
            names = getattr(self, field_name)
            if self.name in names:
                problems.append(
                    FieldError(
                        "an environment cannot list itself",
                        "remove it",
                        at=f"{field_name}[{names.index(self.name)}]",
                    )
                )
        raise_all(problems)
        return self

    @model_validator(mode="after")
    def _boundary_policy_of_this_account(self) -> EnvironmentConfig:
        boundary = self.iam.permissions_boundary
        arn = boundary.managed_policy_arn if boundary is not None else None
        match = MANAGED_POLICY_ARN_PATTERN.fullmatch(arn) if arn is not None else None
        if match is None:
            return self
        problems: list[FieldError] = []
        path = "iam.permissions_boundary.managed_policy_arn"
        # IAM refuses a boundary from another account: a role's boundary must be a policy it could attach.
        if match.group("account") not in (self.account_id, "aws"):
            problems.append(
                FieldError(
                    f"the policy is in account {match.group('account')}, and a permissions boundary must be "
                    "a policy of the role's own account",
                    f"use a policy of this environment's account ({self.account_id}) or an AWS-managed one "
                    "('aws')",
                    at=path,
                )
            )
        expected_partition = aws_partition(self.region)
        if match.group("partition") != expected_partition:
            problems.append(
                FieldError(
                    f"partition '{match.group('partition')}' does not match region {self.region}",
                    f"write arn:{expected_partition}:iam::...",
                    at=path,
                )
            )
        raise_all(problems)
        return self

    @model_validator(mode="after")
    def _kubernetes_fits_the_environment(self) -> EnvironmentConfig:
        if self.kubernetes is None:
            return self
        problems = self._kubernetes_credential_problems(self.kubernetes)
        personas = self.studio.personas if self.studio is not None else {}
        pipelines = {pipeline.name for pipeline in self.pipelines}
        for path, arn, pattern in (
            ("kubernetes.kubectl_role_arn", self.kubernetes.kubectl_role_arn, IAM_ROLE_ARN_PATTERN),
            ("kubernetes.oidc_provider_arn", self.kubernetes.oidc_provider_arn, OIDC_PROVIDER_ARN_PATTERN),
        ):
            match = pattern.fullmatch(arn) if arn is not None else None
            if match is not None and match.group("account") != self.account_id:
                problems.append(
                    FieldError(
                        f"account {match.group('account')} is not this environment's ({self.account_id})",
                        "name the cluster's roles in the environment's account",
                        at=path,
                    )
                )
        issuer = self.kubernetes.oidc_issuer
        if issuer is not None and f".{self.region}." not in issuer:
            problems.append(
                FieldError(
                    f"the issuer {issuer} is not in region {self.region}",
                    "name the OIDC provider of the cluster in this region",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        for index, namespace in enumerate(self.kubernetes.namespaces):
            path = f"kubernetes.namespaces[{index}]"
            persona = personas.get(namespace.persona)
            if persona is None:
                problems.append(
                    FieldError(
                        f"'{namespace.persona}' is not a persona of studio.personas",
                        f"use one of {', '.join(sorted(personas)) or 'none yet'}",
                        at=f"{path}.persona",
                    )
                )
            elif "jobs" not in persona.capabilities:
                problems.append(
                    FieldError(
                        f"persona '{namespace.persona}' has no 'jobs' capability, so it has no job "
                        "guardrails to give the namespace",
                        "add 'jobs' to it or name another persona",
                        at=f"{path}.persona",
                    )
                )
            elif persona.network_isolation and namespace.pipelines:
                problems.append(
                    FieldError(
                        f"persona '{namespace.persona}' requires network isolation, which the platform's "
                        "pipeline definitions do not set",
                        "name another persona or remove the pipelines",
                        at=f"{path}.pipelines",
                    )
                )
            problems.extend(
                FieldError(
                    f"'{name}' is not a pipeline of pipelines",
                    f"use one of {', '.join(sorted(pipelines)) or 'none yet'}",
                    at=f"{path}.pipelines[{p}]",
                )
                for p, name in enumerate(namespace.pipelines)
                if name not in pipelines
            )
        raise_all(problems)
        return self

    @staticmethod
    def _kubernetes_credential_problems(kubernetes: KubernetesConfig) -> list[FieldError]:
        problems: list[FieldError] = []
        if kubernetes.pod_credentials == "irsa" and kubernetes.oidc_provider_arn is None:
            problems.append(
                FieldError(
                    "IRSA needs the cluster's OIDC provider",
                    "add its ARN, or use pod_credentials: pod_identity",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        if kubernetes.pod_credentials == "pod_identity" and kubernetes.oidc_provider_arn is not None:
            problems.append(
                FieldError(
                    "is only used with pod_credentials: irsa",
                    "remove it, or set pod_credentials: irsa",
                    at="kubernetes.oidc_provider_arn",
                )
            )
        namespaces = [namespace.name for namespace in kubernetes.namespaces]
        if kubernetes.controller_namespace in namespaces:
            problems.append(
                FieldError(
                    f"'{kubernetes.controller_namespace}' is the controller's namespace "
                    "(controller_namespace)",
                    "give the team a namespace of its own",
                    at=f"kubernetes.namespaces[{namespaces.index(kubernetes.controller_namespace)}].name",
                )
            )
        return problems
