"""What no cdk-nag pack checks on Studio: VPC-only, KMS, no internet, every user and space as configured."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from aws_cdk import Stack
from aws_cdk.assertions import Match, Template
from aws_cdk.aws_iam import CfnRole

from constructs_lib.studio.persona_execution_role import PersonaCapability
from platform_config import PlatformConfig, naming
from platform_config.models import DomainConfig, PersonaCapabilityName
from tests.conftest import CONFIG_DIR, SynthesizedApp, build_platform


def _studio_cases(platform: PlatformConfig) -> list[tuple[str, str]]:
    return [
        (environment.name, domain.name)
        for environment in platform.environments.values()
        if environment.studio
        for domain in environment.studio.domains
    ]


def _only(template: Template, resource_type: str) -> tuple[str, Any]:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {len(resources)}"
    ((logical_id, resource),) = resources.items()
    return logical_id, resource


def test_the_configured_capabilities_are_the_ones_the_role_grants() -> None:
    # Written twice because of the import direction (constructs never import the configuration): the
    # configuration's Literal and the construct's enum must name the same capabilities.
    assert sorted(get_args(PersonaCapabilityName)) == sorted(
        capability.value for capability in PersonaCapability
    )


def _domain(platform: PlatformConfig, environment: str, name: str) -> DomainConfig:
    studio = platform.environments[environment].studio
    assert studio is not None
    return next(domain for domain in studio.domains if domain.name == name)


def _logical_id_of(stack: Stack, token: str) -> str:
    resolved = stack.resolve(token)
    return str(resolved["Fn::GetAtt"][0] if "Fn::GetAtt" in resolved else resolved["Ref"])


def test_every_domain_of_the_sample_has_its_own_stack(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    cases = _studio_cases(sample_platform)
    assert len(cases) >= 2
    for environment, domain in cases:
        assert domain in synthesized.stages[environment].studio
    assert synthesized.stages["staging"].studio == {}
    assert synthesized.stages["prod"].studio == {}


@pytest.mark.parametrize("domain_name", ["ml-research", "platform-ops"])
def test_domain_is_vpc_only_in_isolated_subnets_with_the_studio_key(
    synthesized: SynthesizedApp, domain_name: str
) -> None:
    stage = synthesized.stages["dev"]
    template = synthesized.template(f"dev/Studio-{domain_name}")
    _, domain = _only(template, "AWS::SageMaker::Domain")
    properties = domain["Properties"]
    assert properties["AppNetworkAccessType"] == "VpcOnly"
    assert properties["DomainName"] == domain_name
    assert properties["TagPropagation"] == "ENABLED"
    assert properties["DomainSettings"]["ExecutionRoleIdentityConfig"] == "USER_PROFILE_NAME"
    # The key is the Data stack's Studio key, referenced across stacks, never an AWS-managed key.
    assert stage.data.studio_key is not None
    studio_key_id = _logical_id_of(stage.data, stage.data.studio_key.key_arn)
    assert studio_key_id in str(properties["KmsKeyId"])
    # Subnets are the isolated ones of the Network stack.
    isolated_ids = {_logical_id_of(stage.network, subnet.subnet_id) for subnet in stage.network.subnets}
    subnet_refs = str(properties["SubnetIds"])
    assert all(logical_id in subnet_refs for logical_id in isolated_ids)
    assert len(properties["SubnetIds"]) == len(isolated_ids) >= 2


def test_no_public_internet_path_in_any_environment(synthesized: SynthesizedApp) -> None:
    for environment, stage in synthesized.stages.items():
        network = Template.from_stack(stage.network)
        for resource_type in (
            "AWS::EC2::InternetGateway",
            "AWS::EC2::NatGateway",
            "AWS::EC2::EgressOnlyInternetGateway",
        ):
            assert network.find_resources(resource_type) == {}, f"{environment} has a {resource_type}"
        routes = network.find_resources("AWS::EC2::Route")
        assert not [r for r in routes.values() if r["Properties"].get("DestinationCidrBlock") == "0.0.0.0/0"]
        for subnet in network.find_resources("AWS::EC2::Subnet").values():
            assert subnet["Properties"].get("MapPublicIpOnLaunch") is not True
        for domain_stack in stage.studio.values():
            template = Template.from_stack(domain_stack)
            egress = [
                rule
                for group in template.find_resources("AWS::EC2::SecurityGroup").values()
                for rule in group["Properties"].get("SecurityGroupEgress", [])
            ] + [
                rule["Properties"]
                for rule in template.find_resources("AWS::EC2::SecurityGroupEgress").values()
            ]
            open_by_address = [rule for rule in egress if rule.get("CidrIp") == "0.0.0.0/0"]
            # HTTPS only: with no internet route it reaches the interface endpoints and, via its gateway, S3.
            assert [(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in open_by_address] == [
                ("tcp", 443, 443)
            ]


def test_default_user_and_space_settings(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    config = _domain(sample_platform, "dev", "ml-research")
    stack = synthesized.stages["dev"].studio["ml-research"]
    template = Template.from_stack(stack)
    default_role = _logical_id_of(stack, stack.persona_roles[config.default_persona].role.role_arn)
    assert config.shared_space_persona not in (None, config.default_persona)
    shared_space_role = _logical_id_of(stack, stack.persona_roles[config.shared_space_persona].role.role_arn)
    idle = {
        "IdleSettings": {
            "LifecycleManagement": "ENABLED",
            "IdleTimeoutInMinutes": config.idle_shutdown.default_minutes,
            "MinIdleTimeoutInMinutes": config.idle_shutdown.min_minutes,
            "MaxIdleTimeoutInMinutes": config.idle_shutdown.max_minutes,
        }
    }
    template.has_resource_properties(
        "AWS::SageMaker::Domain",
        {
            "DefaultUserSettings": Match.object_like(
                {
                    "ExecutionRole": {"Fn::GetAtt": [default_role, "Arn"]},
                    "SecurityGroups": Match.any_value(),
                    "StudioWebPortal": "ENABLED",
                    "JupyterLabAppSettings": Match.object_like(
                        {
                            "AppLifecycleManagement": idle,
                            "DefaultResourceSpec": Match.object_like(
                                {"InstanceType": config.jupyterlab.default_instance_type}
                            ),
                        }
                    ),
                    "CodeEditorAppSettings": Match.object_like({"AppLifecycleManagement": idle}),
                    "StudioWebPortalSettings": {
                        "HiddenAppTypes": sorted(config.hidden.app_types),
                        "HiddenMlTools": sorted(config.hidden.ml_tools),
                        "HiddenInstanceTypes": sorted(config.hidden.instance_types),
                    },
                    "SpaceStorageSettings": {
                        "DefaultEbsStorageSettings": {
                            "DefaultEbsVolumeSizeInGb": config.storage.default_space_gb,
                            "MaximumEbsVolumeSizeInGb": config.storage.max_space_gb,
                        }
                    },
                }
            ),
            "DefaultSpaceSettings": Match.object_like(
                {
                    # Shared spaces run with this role, whoever opens them.
                    "ExecutionRole": {"Fn::GetAtt": [shared_space_role, "Arn"]},
                    "JupyterLabAppSettings": Match.object_like({"AppLifecycleManagement": idle}),
                }
            ),
            "DomainSettings": Match.object_like({"DockerSettings": {"EnableDockerAccess": "ENABLED"}}),
        },
    )


def test_docker_access_follows_config(synthesized: SynthesizedApp) -> None:
    _, domain = _only(synthesized.template("dev/Studio-platform-ops"), "AWS::SageMaker::Domain")
    assert domain["Properties"]["DomainSettings"]["DockerSettings"]["EnableDockerAccess"] == "DISABLED"


def test_lifecycle_configs_come_from_the_script_files_and_are_domain_defaults(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    config = _domain(sample_platform, "dev", "ml-research")
    template = synthesized.template(f"dev/Studio-{config.name}")
    configs = template.find_resources("AWS::SageMaker::StudioLifecycleConfig")
    assert len(configs) == len(config.lifecycle_configs) >= 2
    by_name = {c["Properties"]["StudioLifecycleConfigName"]: (lid, c) for lid, c in configs.items()}
    _, domain = _only(template, "AWS::SageMaker::Domain")
    user_settings = domain["Properties"]["DefaultUserSettings"]
    for lifecycle in config.lifecycle_configs:
        logical_id, resource = by_name[lifecycle.deployed_name(config.name)]
        assert resource["Properties"]["StudioLifecycleConfigContent"] == lifecycle.script.content_base64
        assert resource["Properties"]["StudioLifecycleConfigAppType"] == lifecycle.app_type
        settings_key = (
            "JupyterLabAppSettings" if lifecycle.app_type == "JupyterLab" else "CodeEditorAppSettings"
        )
        arn = {"Fn::GetAtt": [logical_id, "StudioLifecycleConfigArn"]}
        assert arn in user_settings[settings_key]["LifecycleConfigArns"]
        assert user_settings[settings_key]["DefaultResourceSpec"]["LifecycleConfigArn"] == arn


def test_every_user_has_the_role_of_its_persona(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    for environment, domain_name in _studio_cases(sample_platform):
        config = _domain(sample_platform, environment, domain_name)
        stack = synthesized.stages[environment].studio[domain_name]
        profiles = Template.from_stack(stack).find_resources("AWS::SageMaker::UserProfile")
        by_name = {p["Properties"]["UserProfileName"]: p["Properties"] for p in profiles.values()}
        assert sorted(by_name) == sorted(user.name for user in config.users)
        for user in config.users:
            role_id = _logical_id_of(stack, stack.persona_roles[user.persona].role.role_arn)
            assert by_name[user.name]["UserSettings"]["ExecutionRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
            if config.auth_mode == "SSO":
                assert by_name[user.name]["SingleSignOnUserIdentifier"] == "UserName"
                assert by_name[user.name]["SingleSignOnUserValue"] == user.sso_user_name
            else:
                assert "SingleSignOnUserValue" not in by_name[user.name]


def test_every_space_has_its_owner_sharing_and_storage(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    config = _domain(sample_platform, "dev", "ml-research")
    stack = synthesized.stages["dev"].studio[config.name]
    template = Template.from_stack(stack)
    spaces = template.find_resources("AWS::SageMaker::Space")
    by_name = {s["Properties"]["SpaceName"]: s for s in spaces.values()}
    assert sorted(by_name) == sorted(space.name for space in config.spaces)
    assert {space.sharing for space in config.spaces} == {"private", "shared"}
    assert None in {space.storage_gb for space in config.spaces}
    for space in config.spaces:
        resource = by_name[space.name]
        properties = resource["Properties"]
        assert properties["OwnershipSettings"] == {"OwnerUserProfileName": space.owner}
        assert properties["SpaceSharingSettings"] == {"SharingType": space.sharing.capitalize()}
        assert properties["SpaceSettings"]["AppType"] == space.app_type
        # Unset, a space gets the domain's default size.
        expected_gb = space.storage_gb or config.storage.default_space_gb
        assert properties["SpaceSettings"]["SpaceStorageSettings"] == {
            "EbsStorageSettings": {"EbsVolumeSizeInGb": expected_gb}
        }
        owner_id = stack.user_profiles[space.owner].resource.logical_id
        assert owner_id in resource["DependsOn"] or stack.resolve(owner_id) in resource["DependsOn"]
        # The space's volume is encrypted with the domain's key: it must belong to this stack's domain.
        assert properties["DomainId"] == {
            "Fn::GetAtt": [stack.resolve(stack.domain.resource.logical_id), "DomainId"]
        }


def _stateful_resources(stack: Stack) -> list[Mapping[str, Any]]:
    """The domain, its spaces, user profiles and file systems of a Studio stack (each type is there)."""
    template = Template.from_stack(stack)
    found: list[Mapping[str, Any]] = []
    for resource_type in (
        "AWS::SageMaker::Domain",
        "AWS::SageMaker::Space",
        "AWS::SageMaker::UserProfile",
        "AWS::EFS::FileSystem",
    ):
        resources = template.find_resources(resource_type)
        assert resources, resource_type
        found.extend(resources.values())
    return found


def test_dev_is_disposable(synthesized: SynthesizedApp) -> None:
    stack = synthesized.stages["dev"].studio["ml-research"]
    assert stack.termination_protection is False
    for resource in _stateful_resources(stack):
        assert resource["DeletionPolicy"] == "Delete"


@pytest.mark.parametrize("domain_name", ["ml-research", "platform-ops"])
def test_no_home_efs_unless_configured(synthesized: SynthesizedApp, domain_name: str) -> None:
    _, domain = _only(synthesized.template(f"dev/Studio-{domain_name}"), "AWS::SageMaker::Domain")
    assert domain["Properties"]["HomeEfsFileSystemCreation"] == "Disabled"
    assert domain["Properties"]["DefaultUserSettings"]["AutoMountHomeEFS"] == "Disabled"


def test_team_file_system_is_mounted_by_the_configured_users_and_spaces(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    config = _domain(sample_platform, "dev", "ml-research")
    assert [(fs.name, fs.users, fs.spaces, fs.automatic_backups) for fs in config.file_systems] == [
        ("churn-team", ("alice",), ("churn-model-team",), False)
    ]
    stage = synthesized.stages["dev"]
    stack = stage.studio["ml-research"]
    template = Template.from_stack(stack)
    file_system_id, file_system = _only(template, "AWS::EFS::FileSystem")
    assert _logical_id_of(stack, stack.file_systems["churn-team"].file_system_id) == file_system_id
    mounted = {"EFSFileSystemConfig": {"FileSystemId": {"Ref": file_system_id}}}

    # Encrypted with the Data stack's Studio key.
    assert file_system["Properties"]["Encrypted"] is True
    assert file_system["Properties"]["BackupPolicy"] == {"Status": "DISABLED"}
    assert stage.data.studio_key is not None
    assert _logical_id_of(stage.data, stage.data.studio_key.key_arn) in str(
        file_system["Properties"]["KmsKeyId"]
    )

    profiles = {
        resource["Properties"]["UserProfileName"]: resource["Properties"]["UserSettings"]
        for resource in template.find_resources("AWS::SageMaker::UserProfile").values()
    }
    assert {name: settings.get("CustomFileSystemConfigs") for name, settings in profiles.items()} == {
        "alice": [mounted],
        "bob": None,
        "carol": None,
    }
    spaces = {
        resource["Properties"]["SpaceName"]: resource["Properties"]["SpaceSettings"]
        for resource in template.find_resources("AWS::SageMaker::Space").values()
    }
    # alice-lab is alice's private space; churn-model-team is listed; bob-editor is neither.
    assert {name: settings.get("CustomFileSystems") for name, settings in spaces.items()} == {
        "alice-lab": [{"EFSFileSystem": {"FileSystemId": {"Ref": file_system_id}}}],
        "bob-editor": None,
        "churn-model-team": [{"EFSFileSystem": {"FileSystemId": {"Ref": file_system_id}}}],
    }
    # A shared space mounts only what the domain's default space settings offer.
    _, domain = _only(template, "AWS::SageMaker::Domain")
    assert domain["Properties"]["DefaultSpaceSettings"]["CustomFileSystemConfigs"] == [mounted]


def test_team_file_system_has_a_mount_target_per_domain_subnet_reached_from_the_studio_group(
    synthesized: SynthesizedApp,
) -> None:
    template = synthesized.template("dev/Studio-ml-research")
    file_system_id, _ = _only(template, "AWS::EFS::FileSystem")
    _, domain = _only(template, "AWS::SageMaker::Domain")
    targets = [
        target["Properties"]
        for target in template.find_resources("AWS::EFS::MountTarget").values()
        if target["Properties"]["FileSystemId"] == {"Ref": file_system_id}
    ]
    assert sorted(map(str, (t["SubnetId"] for t in targets))) == sorted(
        map(str, domain["Properties"]["SubnetIds"])
    )
    (studio_group,) = domain["Properties"]["DefaultUserSettings"]["SecurityGroups"]
    (file_system_group,) = {json.dumps(t["SecurityGroups"]) for t in targets}
    ingress = [
        rule["Properties"]
        for rule in template.find_resources("AWS::EC2::SecurityGroupIngress").values()
        if rule["Properties"]["GroupId"] == json.loads(file_system_group)[0]
    ]
    assert [(r["SourceSecurityGroupId"], r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in ingress] == [
        (studio_group, "tcp", 2049, 2049)
    ]
    # The Studio group lets the apps out to it: NFS inside the VPC.
    studio_group_id = studio_group["Fn::GetAtt"][0]
    egress = template.to_json()["Resources"][studio_group_id]["Properties"]["SecurityGroupEgress"]
    assert any(rule["IpProtocol"] == "tcp" and rule["FromPort"] == 2049 for rule in egress)


@pytest.fixture(scope="module")
def retained_studio(config_dir_with_retained_studio: Path, cdk_context: dict[str, Any]) -> Stack:
    stages = build_platform(config_dir_with_retained_studio, cdk_context, environments=["dev"])
    return stages["dev"].studio["ml-research"]


@pytest.fixture(scope="module")
def config_dir_with_retained_studio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("retained") / "config"
    shutil.copytree(CONFIG_DIR, target)
    path = target / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    data["retain_stateful_resources"] = True
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return target


def test_domain_users_spaces_and_file_systems_are_retained_outside_dev(retained_studio: Stack) -> None:
    assert retained_studio.termination_protection is True
    for resource in _stateful_resources(retained_studio):
        assert resource["DeletionPolicy"] == "Retain"
        assert resource["UpdateReplacePolicy"] == "Retain"


def test_a_user_added_changes_only_its_domain_stack(
    config_copy: Callable[..., Path], cdk_context: dict[str, Any], synthesized: SynthesizedApp
) -> None:
    def add_user(data: dict[str, Any]) -> None:
        data["studio"]["domains"][0]["users"].append({"name": "dave", "persona": "analyst"})

    stages = build_platform(config_copy("dev", add_user), cdk_context, environments=["dev"])
    changed = {
        stack_id
        for stack_id in ("Data", "Network", "Studio-ml-research", "Studio-platform-ops")
        if Template.from_stack(stages["dev"].node.find_child(stack_id)).to_json()  # type: ignore[arg-type]
        != synthesized.template(f"dev/{stack_id}").to_json()
    }
    assert changed == {"Studio-ml-research"}


def test_source_identity_is_on_and_every_execution_role_allows_it(synthesized: SynthesizedApp) -> None:
    # With ExecutionRoleIdentityConfig on, apps and jobs fail to start unless the trust allows it.
    scheduling: set[str] = set()
    for stack in synthesized.stages["dev"].studio.values():
        template = Template.from_stack(stack)
        _, domain = _only(template, "AWS::SageMaker::Domain")
        assert domain["Properties"]["DomainSettings"]["ExecutionRoleIdentityConfig"] == "USER_PROFILE_NAME"
        # The roles of the persona execution roles; a disposable environment's teardown has its own.
        teardown_roles = (
            {
                stack.get_logical_id(child)
                for child in stack.teardown.node.find_all()
                if isinstance(child, CfnRole)
            }
            if stack.teardown is not None
            else set()
        )
        roles = {
            logical_id: role
            for logical_id, role in template.find_resources("AWS::IAM::Role").items()
            if logical_id not in teardown_roles
        }
        assert len(roles) == len(stack.persona_roles)
        schedulers = {
            stack.get_logical_id(persona.role.node.default_child)  # type: ignore[arg-type]
            for persona in stack.persona_roles.values()
            if PersonaCapability.NOTEBOOK_JOBS in persona.capabilities
        }
        for logical_id, role in roles.items():
            statement, *others = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert statement["Principal"] == {"Service": "sagemaker.amazonaws.com"}
            assert sorted(statement["Action"]) == ["sts:AssumeRole", "sts:SetSourceIdentity"]
            # Notebook job schedules: EventBridge starts the pipeline as the role, from this account only.
            assert others == (
                [
                    {
                        "Action": "sts:AssumeRole",
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Condition": {"StringEquals": {"aws:SourceAccount": stack.account}},
                    }
                ]
                if logical_id in schedulers
                else []
            )
        scheduling |= schedulers
    assert scheduling, "the sample has a persona with the notebook_jobs capability"


def test_iam_domains_get_a_sign_in_policy_limited_to_the_callers_own_profile(
    synthesized: SynthesizedApp,
) -> None:
    iam_domain = synthesized.template("dev/Studio-ml-research")
    statements = [
        statement
        for policy in iam_domain.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "sagemaker:CreatePresignedDomainUrl"
    ]
    assert len(statements) == 1
    resource = statements[0]["Resource"]["Fn::Join"][1]
    assert resource[-1] == "/${aws:PrincipalTag/studio-user-profile}"
    assert resource[1] == {"Fn::GetAtt": ["Domain66AC69E0", "DomainId"]}
    # CDK's PublishOutput* outputs carry same-account cross-stack references (the domain ARN a notebook
    # job's Studio view tag names); the stack's own outputs are these three.
    own_outputs = {name for name in iam_domain.find_outputs("*") if not name.startswith("PublishOutput")}
    assert own_outputs == {"DomainId", "DomainUrl", "SignInPolicyArn"}
    # IAM Identity Center users sign in through the access portal: no presigned-URL grant at all.
    sso_domain = synthesized.template("dev/Studio-platform-ops")
    assert "CreatePresignedDomainUrl" not in json.dumps(sso_domain.to_json())
    assert set(sso_domain.find_outputs("*")) == {"DomainId", "DomainUrl"}


def _role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the managed policies attached to one role."""
    return [
        statement
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in policy["Properties"].get("Roles", [])
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_each_persona_writes_only_its_own_scratch_prefix_of_the_artifact_bucket(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    checked = 0
    for environment, domain_name in _studio_cases(sample_platform):
        bucket = naming.artifact_bucket_name(sample_platform.environments[environment])
        studio = sample_platform.environments[environment].studio
        assert studio is not None
        stack = synthesized.stages[environment].studio[domain_name]
        template = Template.from_stack(stack)
        for persona, role in stack.persona_roles.items():
            scratch = naming.persona_scratch_prefix(domain_name, persona)
            assert scratch == f"scratch/{domain_name}/{persona}" == role.scratch_prefix
            written: set[str] = set()
            for statement in _role_statements(template, _logical_id_of(stack, role.role.role_arn)):
                actions = (
                    [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
                )
                if any(action.startswith(("s3:Put", "s3:Delete", "s3:Abort")) for action in actions):
                    resources = statement["Resource"]
                    written.update(resources if isinstance(resources, list) else [resources])
            allowed = {f"arn:aws:s3:::{bucket}/{scratch}/*"}
            if "experiments" in studio.personas[persona].capabilities:
                # MLflow clients upload run artifacts to the tracking server's store themselves.
                allowed.add(f"arn:aws:s3:::{bucket}/{naming.MLFLOW_ARTIFACT_PREFIX}/*")
            # Build sources of `mlplatform build-image` go to another bucket.
            assert {resource for resource in written if bucket in str(resource)} == allowed, persona
            checked += 1
    assert checked >= 4


def test_each_persona_role_is_kept_out_of_other_domains_resources(
    synthesized: SynthesizedApp, sample_platform: PlatformConfig
) -> None:
    # AWS's domain resource isolation: the domain's own ARN (from the domain resource), per role.
    checked = 0
    for environment, domain_name in _studio_cases(sample_platform):
        stack = synthesized.stages[environment].studio[domain_name]
        template = Template.from_stack(stack)
        domain_id, _ = _only(template, "AWS::SageMaker::Domain")
        own_domain = {"Fn::GetAtt": [domain_id, "DomainArn"]}
        for role in stack.persona_roles.values():
            denies = {
                statement["Sid"]: statement
                for statement in _role_statements(template, _logical_id_of(stack, role.role.role_arn))
                if statement["Effect"] == "Deny"
            }
            assert sorted(denies) == ["DenyOtherDomainsResources", "DenyTaggingForOtherDomains"]
            for statement, key in (
                (denies["DenyOtherDomainsResources"], "aws:ResourceTag/sagemaker:domain-arn"),
                (denies["DenyTaggingForOtherDomains"], "aws:RequestTag/sagemaker:domain-arn"),
            ):
                assert (statement["Action"], statement["Resource"]) == ("sagemaker:*", "*")
                assert statement["Condition"] == {
                    "StringNotEquals": {key: own_domain},
                    "Null": {key: "false"},
                }
            checked += 1
    assert checked >= 4
