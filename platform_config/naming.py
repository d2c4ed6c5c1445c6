"""Deterministic names of resources other stacks and accounts refer to, derived from configuration.

Both sides of a reference (another stack, another account) compute the same name from the same
configuration, so neither needs an export or a lookup.
"""

from __future__ import annotations

import hashlib
import json

from platform_config.models import (
    EndpointConfig,
    EnvironmentConfig,
    InstancesConfig,
    ServerlessConfig,
    aws_partition,
)


def _account_bucket(environment: EnvironmentConfig, purpose: str) -> str:
    """`<env>-ml-<purpose>-<account>-<region>`: globally unique through the account id, and at most 63
    characters for a 20-character environment name, a 9-character purpose and the longest region."""
    return f"{environment.name}-ml-{purpose}-{environment.account_id}-{environment.region}"


def artifact_bucket_name(environment: EnvironmentConfig) -> str:
    """Globally unique through the account id; at most 61 characters for the longest names allowed."""
    return _account_bucket(environment, "artifacts")


# --- the image build path: what the stacks publish and the mlplatform command reads ----------------

PARAMETER_ROOT = "/sagemaker-platform"
# Variables the build project's buildspec reads, and the ones it exports when a build succeeds.
BUILD_VARIABLE_REPOSITORY_URI = "IMAGE_REPOSITORY_URI"
BUILD_VARIABLE_IMAGE_TAG = "IMAGE_TAG"
# Optional (`mlplatform build-image --file/--build-arg/--platform`): the Dockerfile's path in the context,
# `NAME=value` build arguments one per line, and the target platform; unset means docker's defaults.
BUILD_VARIABLE_DOCKERFILE = "IMAGE_DOCKERFILE"
BUILD_VARIABLE_BUILD_ARGS = "IMAGE_BUILD_ARGS"
BUILD_VARIABLE_PLATFORM = "IMAGE_PLATFORM"
BUILD_EXPORTED_IMAGE_URI = "IMAGE_URI"
BUILD_EXPORTED_IMAGE_DIGEST = "IMAGE_DIGEST"


def image_build_parameter(environment_name: str, key: str) -> str:
    """SSM parameter of the image build path, e.g. `/sagemaker-platform/dev/image-build/project-name`.

    Keys: `project-name` (CodeBuild project), `source-bucket` (staging bucket for build sources),
    `repositories/<name>` (the repository URI of each configured repository).
    """
    return f"{PARAMETER_ROOT}/{environment_name}/image-build/{key}"


def repository_parameter(environment_name: str, repository_name: str) -> str:
    return image_build_parameter(environment_name, f"repositories/{repository_name}")


BUILD_SOURCE_PREFIX = "sources"


def build_source_key(repository_name: str, image_tag: str) -> str:
    """Where the command uploads a build's zipped folder in the staging bucket."""
    return f"{BUILD_SOURCE_PREFIX}/{repository_name}/{image_tag}.zip"


def image_build_project_name(environment_name: str) -> str:
    return f"{environment_name}-image-build"


def image_build_role_name(environment_name: str) -> str:
    """Fixed: the repositories' policies deny pushes from any other principal."""
    return f"{environment_name}-sagemaker-platform-image-build"


def build_source_bucket_name(environment: EnvironmentConfig) -> str:
    """At most 58 characters; fixed so execution roles in Studio stacks can be granted uploads to it."""
    return _account_bucket(environment, "builds")


def image_build_log_group_name(environment_name: str) -> str:
    return f"{PARAMETER_ROOT}/{environment_name}/image-build"


# --- cross-account contract: roles other accounts name, and what they may read ----------------------

# Model artifacts that serving accounts may read live under this prefix of the artifact bucket.
MODEL_ARTIFACT_PREFIX = "models"
# The MLflow tracking server's artifact store in the artifact bucket; its clients write there directly.
MLFLOW_ARTIFACT_PREFIX = "mlflow"
# Studio personas' own part of the artifact bucket (see persona_scratch_prefix).
SCRATCH_PREFIX = "scratch"


def persona_scratch_prefix(domain_name: str, persona_name: str) -> str:
    """`scratch/<domain>/<persona>`: the only part of the artifact bucket where a persona's role (its
    users, and the jobs they start) may write and delete; the rest of the bucket it may only read."""
    return f"{SCRATCH_PREFIX}/{domain_name}/{persona_name}"


def pipeline_role_name(environment_name: str) -> str:
    """The role the environment's SageMaker pipelines and their jobs run as. Fixed: the artifact bucket's
    policy (Data stack) lets it alone write model artifacts, naming it without a reference to its stack."""
    return f"{environment_name}-sagemaker-platform-pipelines"


def notebook_job_role_name(environment_name: str) -> str:
    """The role the environment's scheduled notebooks (notebook job pipelines) and their jobs run as."""
    return f"{environment_name}-sagemaker-platform-notebook-jobs"


def promotion_role_name(environment_name: str) -> str:
    """In an environment that serves others: the role its automation uses to deploy into them."""
    return f"{environment_name}-sagemaker-platform-promotion"


def deployment_role_name(environment_name: str) -> str:
    """In a serving environment: the role the trusted environments' promotion roles assume."""
    return f"{environment_name}-sagemaker-platform-deployment"


def serving_execution_role_name(environment_name: str) -> str:
    """In a serving environment: the role its models and endpoints run as."""
    return f"{environment_name}-sagemaker-platform-serving"


def partition(environment: EnvironmentConfig) -> str:
    return aws_partition(environment.region)


def role_path(environment: EnvironmentConfig) -> str:
    """The path of every role the platform creates (`iam.role_path`, `/` by default)."""
    return environment.iam.role_path


def role_arn(environment: EnvironmentConfig, role_name: str) -> str:
    """A role the platform creates: its ARN carries the environment's role path, as IAM writes it (and as
    `aws:PrincipalArn` reports it), so grants on the other side name exactly that role."""
    return (
        f"arn:{partition(environment)}:iam::{environment.account_id}:role{role_path(environment)}{role_name}"
    )


def permissions_boundary_policy_name(environment_name: str) -> str:
    """The boundary policy the platform creates with `iam.permissions_boundary.create: true`."""
    return f"{environment_name}-sagemaker-platform-boundary"


def permissions_boundary_arn(environment: EnvironmentConfig) -> str | None:
    """The permissions boundary of every role in the environment: the configured policy, the platform's own
    (created with the role path), or None."""
    boundary = environment.iam.permissions_boundary
    if boundary is None:
        return None
    if boundary.managed_policy_arn is not None:
        return boundary.managed_policy_arn
    return (
        f"arn:{partition(environment)}:iam::{environment.account_id}:policy{role_path(environment)}"
        f"{permissions_boundary_policy_name(environment.name)}"
    )


def key_alias(environment_name: str, purpose: str) -> str:
    """The alias of one of the platform's keys (data, studio, logs, images): other accounts name the data
    and images keys by alias, since a key's id is only known once it exists."""
    return f"alias/{environment_name}/sagemaker-platform/{purpose}"


def data_bucket_name(environment: EnvironmentConfig) -> str:
    """The versioned source-data bucket whose new objects start pipelines; at most 57 characters."""
    return _account_bucket(environment, "data")


def package_reader_role_name(environment_name: str) -> str:
    """In a serving environment: the role that reads a pinned model package at deploy time (its approval
    status and data-quality baseline); the source's group policies name it."""
    return f"{environment_name}-sagemaker-platform-package-reader"


def cloudformation_execution_role_name(environment: EnvironmentConfig) -> str:
    """The role `cdk bootstrap` creates for CloudFormation: it calls CreateModel with the trusted
    environments' package ARNs, so their group policies name it."""
    qualifier = environment.cross_account.bootstrap_qualifier
    return f"cdk-{qualifier}-cfn-exec-role-{environment.account_id}-{environment.region}"


def cloudformation_execution_role_arn(environment: EnvironmentConfig) -> str:
    """`cdk bootstrap` creates this role, not the platform: it has the default path `/`, never the
    platform's `iam.role_path`."""
    return (
        f"arn:{partition(environment)}:iam::{environment.account_id}:role/"
        f"{cloudformation_execution_role_name(environment)}"
    )


def model_package_arn(source: EnvironmentConfig, group: str, version: int) -> str:
    """A version's ARN; SageMaker writes the group's name lower-cased in it."""
    return (
        f"arn:{partition(source)}:sagemaker:{source.region}:{source.account_id}:model-package/"
        f"{group.lower()}/{version}"
    )


def mlflow_tracking_server_name(environment_name: str) -> str:
    return f"{environment_name}-sagemaker-platform"


def mlflow_tracking_server_arn(environment: EnvironmentConfig) -> str:
    """Derived, so Studio and pipeline roles are granted it without a reference to the Experiments stack."""
    return (
        f"arn:{partition(environment)}:sagemaker:{environment.region}:{environment.account_id}:mlflow-tracking-server/"
        f"{mlflow_tracking_server_name(environment.name)}"
    )


PROJECT_TAG = "sagemaker-mlops-platform"
# IAM role descriptions are at most 1,000 characters.
ROLE_DESCRIPTION_LENGTH = 1000


def platform_tags(environment: EnvironmentConfig) -> dict[str, str]:
    """Every tag the Stage puts on every resource: the platform's own, then the environment's `tags`."""
    return {"project": PROJECT_TAG, "environment": environment.name, **environment.tags}


def persona_role_description(persona_name: str, description: str) -> str:
    return f"SageMaker execution role of persona {persona_name}: {description}"[:ROLE_DESCRIPTION_LENGTH]


def app_image_config_name(image_name: str) -> str:
    """The JupyterLab app image config of a Studio image."""
    return f"{image_name}-jupyterlab"


def endpoint_alarm_prefix(environment_name: str, endpoint_name: str) -> str:
    """What an endpoint's alarm names start with, whichever stack (Serving or Kubernetes) applies it."""
    return f"{environment_name}-{endpoint_name}"


def monitoring_schedule_name(endpoint_name: str) -> str:
    """At most 63 characters for the 50-character endpoint names the configuration allows."""
    return f"{endpoint_name}-data-quality"


def capture_bucket_name(environment: EnvironmentConfig) -> str:
    """Endpoints' captured requests and monitoring reports; at most 60 characters."""
    return _account_bucket(environment, "capture")


def ack_controller_role_name(environment_name: str) -> str:
    """The role of the ACK SageMaker controller's pod: it may only assume the namespaces' roles (ADR 0017)."""
    return f"{environment_name}-sagemaker-platform-ack-controller"


def ack_namespace_role_name(environment_name: str, namespace: str) -> str:
    """The role the controller assumes for one namespace's resources, with its persona's guardrails."""
    return f"{environment_name}-sagemaker-platform-k8s-{namespace}"


def k8s_sagemaker_name(namespace: str, name: str) -> str:
    """The SageMaker name of what a namespace creates: its role may touch only names with this prefix, and
    it never collides with what CloudFormation creates under the plain name."""
    return f"{namespace}-{name}"


def k8s_package_reader_role_name(environment_name: str) -> str:
    """In a serving environment whose namespaces serve endpoints: the role of the Kubernetes stack's own
    package reader (the Serving stack's has the other name), which the source registries' policies name."""
    return f"{environment_name}-sagemaker-platform-k8s-package-reader"


def k8s_model_name(namespace: str, endpoint: EndpointConfig) -> str:
    """The model of an endpoint a namespace serves: one per pinned version, as SageMaker models are
    immutable (ACK cannot update one in place)."""
    return k8s_sagemaker_name(namespace, f"{endpoint.name}-v{endpoint.model_package.version}")


def k8s_endpoint_config_name(namespace: str, endpoint: EndpointConfig) -> str:
    """The endpoint config of an endpoint a namespace serves: immutable too, so named by the version and a
    digest of its settings; changing either makes a new config the endpoint then moves to."""
    match endpoint.capacity:
        case InstancesConfig(instance_type=instance_type, initial_instance_count=count):
            instances: dict[str, object] | None = {
                "instance_type": instance_type,
                "initial_instance_count": count,
            }
        case ServerlessConfig():
            instances = None
    capture = endpoint.capture
    settings = json.dumps(
        {
            "instances": instances,
            "capture": {"sampling_percentage": capture.sampling_percentage} if capture is not None else None,
        },
        sort_keys=True,
    )
    digest = hashlib.sha256(settings.encode()).hexdigest()[:6]
    return f"{k8s_model_name(namespace, endpoint)}-{digest}"
