"""`studio`: personas (what a kind of user may do), and the Studio domains with their users, spaces,
lifecycle configurations, defaults and team file systems."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from platform_config.aws_values import STUDIO_APP_INSTANCE_TYPES, STUDIO_APP_TYPES, STUDIO_ML_TOOLS
from platform_config.problems import FieldError, raise_all
from platform_config.sections.shared import (
    PERSONA_JOB_INSTANCE_TYPE_PATTERN,
    FrozenModel,
    SageMakerName,
    unique,
)

# SageMaker limits a lifecycle script to 16384 characters once base64 encoded.
MAX_LIFECYCLE_SCRIPT_BASE64_LENGTH = 16384
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


def _app_instance_type(value: str) -> str:
    # 'system' is the instance type of the legacy JupyterServer app only, not one users can pick.
    if value not in STUDIO_APP_INSTANCE_TYPES or value == "system":
        raise FieldError(
            f"'{value}' is not a SageMaker Studio app instance type",
            "use one such as ml.t3.medium, ml.m5.xlarge or ml.g5.xlarge (the full list is in "
            "platform_config/aws_values.py)",
        )
    return value


AppInstanceType = Annotated[StrictStr, AfterValidator(_app_instance_type)]
StudioAppType = Literal["JupyterLab", "CodeEditor"]
# The same names as constructs_lib.persona_execution_role.PersonaCapability (a test keeps the two in step:
# constructs do not import the configuration).
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
        return unique(value, "capabilities")

    @field_validator("app_instance_types")
    @classmethod
    def _unique_app_instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "app instance types")

    @field_validator("job_instance_types")
    @classmethod
    def _job_instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for instance_type in value:
            if not PERSONA_JOB_INSTANCE_TYPE_PATTERN.fullmatch(instance_type):
                raise FieldError(
                    f"'{instance_type}' is not a SageMaker instance type", "use one such as ml.m5.xlarge"
                )
        return unique(value, "job instance types")

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
        return unique(value, "app types")

    @field_validator("ml_tools")
    @classmethod
    def _ml_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for tool in value:
            if tool not in STUDIO_ML_TOOLS:
                raise FieldError(
                    f"unknown ML tool '{tool}'", f"use one of {', '.join(sorted(STUDIO_ML_TOOLS))}"
                )
        return unique(value, "ML tools")

    @field_validator("instance_types")
    @classmethod
    def _instance_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "instance types")


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
        return unique(value, "users")

    @field_validator("spaces")
    @classmethod
    def _unique_spaces(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return unique(value, "spaces")

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
        return unique(value, "custom images")

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
                unique(tuple(names), label, at=field_name)
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
            unique(tuple(domain.name for domain in self.domains), "domain names", at="domains")
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
