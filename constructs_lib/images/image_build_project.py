"""The CodeBuild project that turns an uploaded folder with a Dockerfile into an image in ECR."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import ArnFormat, Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_codebuild as codebuild
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.shared.compliance import (
    BUCKET_READ_GRANT_ACTIONS,
    KEY_ENCRYPT_GRANT_ACTIONS,
    acknowledge,
    acknowledge_wildcard_actions,
    acknowledge_wildcard_resource,
)
from constructs_lib.shared.log_retention import retention

# The AWS Deep Learning Containers registry: one account for most regions, its own in a few.
DEEP_LEARNING_CONTAINERS_ACCOUNT = "763104351884"
DEEP_LEARNING_CONTAINERS_ACCOUNT_BY_REGION: Mapping[str, str] = {
    "af-south-1": "626614931356",
    "ap-east-1": "871362719292",
    "ap-southeast-3": "907027046896",
    "eu-south-1": "692866216735",
    "me-south-1": "217643126080",
}


# CodeBuild's API names of the compute sizes a Docker build can use.
COMPUTE_TYPES: Mapping[str, codebuild.ComputeType] = {
    "BUILD_GENERAL1_SMALL": codebuild.ComputeType.SMALL,
    "BUILD_GENERAL1_MEDIUM": codebuild.ComputeType.MEDIUM,
    "BUILD_GENERAL1_LARGE": codebuild.ComputeType.LARGE,
    "BUILD_GENERAL1_XLARGE": codebuild.ComputeType.X_LARGE,
    "BUILD_GENERAL1_2XLARGE": codebuild.ComputeType.X2_LARGE,
}


@dataclass(frozen=True)
class BuildContract:
    """Names shared with the command that starts builds (platform_config.naming holds the values)."""

    repository_uri_variable: str
    image_tag_variable: str
    dockerfile_variable: str
    build_args_variable: str
    platform_variable: str
    exported_image_uri: str
    exported_image_digest: str
    source_prefix: str


@dataclass(frozen=True)
class BuildNetwork:
    """Optional VPC placement: builds then reach ECR, S3 and logs through the VPC's endpoints only."""

    vpc: ec2.IVpc
    subnets: Sequence[ec2.ISubnet]


def _docker_build(contract: BuildContract, image: str) -> str:
    """One bash command (an array does not outlive a buildspec command): the optional build options, then
    `docker build`. Build arguments arrive one `NAME=value` per line, so values may hold spaces."""
    dockerfile = f'"${{{contract.dockerfile_variable}:-Dockerfile}}"'
    platform = f'${{{contract.platform_variable}:+--platform "${contract.platform_variable}"}}'
    return (
        "build_args=(); "
        'while IFS= read -r build_arg; do if [ -n "$build_arg" ]; then '
        'build_args+=(--build-arg "$build_arg"); fi; '
        f'done <<< "${{{contract.build_args_variable}:-}}"; '
        f'docker build --pull --file {dockerfile} {platform} "${{build_args[@]}}" --tag {image} .'
    )


def _buildspec(contract: BuildContract, base_image_registries: Sequence[str]) -> codebuild.BuildSpec:
    repository_uri = f"${{{contract.repository_uri_variable}}}"
    image = f'"{repository_uri}:${{{contract.image_tag_variable}}}"'
    dockerfile = f'"${{{contract.dockerfile_variable}:-Dockerfile}}"'
    login = 'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin'
    return codebuild.BuildSpec.from_object(
        {
            "version": "0.2",
            "env": {
                "shell": "bash",
                "exported-variables": [contract.exported_image_uri, contract.exported_image_digest],
            },
            "phases": {
                "pre_build": {
                    "commands": [
                        *(
                            f'test -n "${{{variable}}}" || {{ echo "{variable} is not set"; exit 1; }}'
                            for variable in (contract.repository_uri_variable, contract.image_tag_variable)
                        ),
                        f"test -f {dockerfile} || {{ echo {dockerfile}' is not in the uploaded folder'; "
                        "exit 1; }",
                        f'{login} "${{{contract.repository_uri_variable}%%/*}}"',
                        # So that FROM an AWS base image (Deep Learning Containers, ...) works.
                        *(f'{login} "{registry}"' for registry in base_image_registries),
                    ]
                },
                "build": {"commands": [_docker_build(contract, image)]},
                "post_build": {
                    "commands": [
                        'test "$CODEBUILD_BUILD_SUCCEEDING" = 1',
                        f"docker push {image}",
                        f"{contract.exported_image_digest}=$(set -o pipefail; docker inspect --format "
                        f"'{{{{index .RepoDigests 0}}}}' {image} | cut -d@ -f2)",
                        f'test -n "${{{contract.exported_image_digest}}}" || '
                        '{ echo "no digest for the pushed image"; exit 1; }',
                        f'{contract.exported_image_uri}="{repository_uri}@${{{contract.exported_image_digest}}}"',
                        f'echo "pushed ${{{contract.exported_image_uri}}}"',
                    ]
                },
            },
        }
    )


class ImageBuildProject(Construct):
    """A privileged CodeBuild project building the Dockerfile of a zipped folder uploaded to S3.

    It logs in to the platform's registry and to the AWS base-image registries, builds, pushes
    `<repository>:<tag>` and exports the pushed image's URI and digest. Its role may read build sources
    from the staging bucket and push to the given repositories only; the role has a fixed name because
    the repositories' policies deny pushes from anyone else. Logs go to a KMS-encrypted log group.
    Exposes `project`, `role` and `log_group`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project_name: str,
        role_name: str,
        log_group_name: str,
        source_bucket: s3.IBucket,
        repositories: Sequence[ecr.IRepository],
        contract: BuildContract,
        compute_type: str,
        timeout_minutes: int,
        artifacts_key: kms.IKey,
        logs_key: kms.IKey,
        log_retention_days: int,
        log_removal_policy: RemovalPolicy,
        base_image_accounts: Sequence[str] = (),
        network: BuildNetwork | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        if compute_type not in COMPUTE_TYPES:
            raise ValueError(f"compute_type must be one of {', '.join(COMPUTE_TYPES)}, got '{compute_type}'")
        log_retention = retention(log_retention_days, field="log_retention_days")
        stack = Stack.of(self)
        region = stack.region
        registry_accounts = sorted(
            {
                DEEP_LEARNING_CONTAINERS_ACCOUNT_BY_REGION.get(region, DEEP_LEARNING_CONTAINERS_ACCOUNT),
                *base_image_accounts,
            }
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("codebuild.amazonaws.com"),
            description=f"Builds platform images ({project_name}): reads build sources, pushes images",
        )
        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            log_group_name=log_group_name,
            encryption_key=logs_key,
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        security_groups: list[ec2.ISecurityGroup] = []
        if network is not None:
            group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=network.vpc,
                description=f"Image builds of {project_name}: HTTPS out only",
                allow_all_outbound=False,
            )
            group.add_egress_rule(
                ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to the VPC endpoints and, via its gateway, S3"
            )
            security_groups.append(group)
        self.project = codebuild.Project(
            self,
            "Project",
            project_name=project_name,
            description="Builds the Dockerfile of an uploaded folder and pushes the image to ECR",
            role=self.role,
            source=codebuild.Source.s3(bucket=source_bucket, path=f"{contract.source_prefix}/"),
            build_spec=_buildspec(
                contract, [f"{account}.dkr.ecr.{region}.amazonaws.com" for account in registry_accounts]
            ),
            environment=codebuild.BuildEnvironment(
                build_image=codebuild.LinuxBuildImage.STANDARD_7_0,
                compute_type=COMPUTE_TYPES[compute_type],
                # Docker builds need the Docker daemon, which needs privileged mode.
                privileged=True,
            ),
            encryption_key=artifacts_key,
            timeout=Duration.minutes(timeout_minutes),
            queued_timeout=Duration.hours(1),
            logging=codebuild.LoggingOptions(
                cloud_watch=codebuild.CloudWatchLoggingOptions(log_group=self.log_group)
            ),
            vpc=network.vpc if network is not None else None,
            subnet_selection=ec2.SubnetSelection(subnets=list(network.subnets))
            if network is not None
            else None,
            security_groups=security_groups or None,
        )
        # The template validator reports any reference to a role with a path (iam.role_path) as a Ref to
        # its name, GetAtt included; CDK writes `Fn::GetAtt [Role, Arn]`, which finds the role on any path.
        acknowledge(
            self.project,
            "CloudFormation-Validate::E3050",
            "ServiceRole is the role's ARN (Fn::GetAtt Arn), which CodeBuild resolves on any role path.",
        )
        source_bucket.grant_read(self.role, f"{contract.source_prefix}/*")
        for repository in repositories:
            repository.grant_pull_push(self.role)
        base_image_repositories = [
            stack.format_arn(service="ecr", account=account, resource="repository", resource_name="*")
            for account in registry_accounts
        ]
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                sid="PullBaseImages",
                actions=[
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                resources=base_image_repositories,
            )
        )
        self._acknowledge(source_bucket, base_image_repositories, contract)
        if network is not None:
            self._acknowledge_vpc_access()

    def _acknowledge_vpc_access(self) -> None:
        """What CodeBuild needs to attach builds to the VPC, as CDK writes it."""
        vpc_policy = self.project.node.find_child("PolicyDocument")
        acknowledge(
            vpc_policy,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's CodeBuild project writes the network-interface grants a VPC build needs into a policy of "
            "its own, attached to the build role only.",
        )
        acknowledge_wildcard_resource(
            vpc_policy,
            "*",
            "EC2 Describe and network-interface calls that CodeBuild makes for VPC builds support no "
            "resource-level permissions.",
        )
        acknowledge_wildcard_resource(
            self.role.node.find_child("DefaultPolicy"),
            # CDK writes this ARN with pseudo parameters, whatever the stack's environment.
            f"arn:{Aws.PARTITION}:ec2:{Aws.REGION}:{Aws.ACCOUNT_ID}:network-interface/*",
            "Network interface ids are assigned when CodeBuild attaches a build to the configured subnets.",
        )

    def _acknowledge(
        self, source_bucket: s3.IBucket, base_image_repositories: Sequence[str], contract: BuildContract
    ) -> None:
        stack = Stack.of(self)
        policy = self.role.node.find_child("DefaultPolicy")
        acknowledge(
            policy,
            "NIST.800.53.R5-IAMNoInlinePolicy",
            "CDK's CodeBuild project writes its own grants (logs, reports, the artifacts key) into the build "
            "role's default policy; the role serves this one project.",
        )
        acknowledge_wildcard_actions(
            policy,
            [*BUCKET_READ_GRANT_ACTIONS, *KEY_ENCRYPT_GRANT_ACTIONS],
            "Action groups of CDK's grant_read on the build-source bucket and of CodeBuild's grant on its "
            "artifacts key; each on that one bucket or key.",
        )
        acknowledge_wildcard_resource(
            policy,
            "*",
            "ecr:GetAuthorizationToken has no resource-level permissions; pushing is limited to the "
            "platform's repositories.",
        )
        project_name = self.project.project_name
        acknowledge_wildcard_resource(
            policy,
            stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"/aws/codebuild/{project_name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            ),
            "CodeBuild names each build's log stream at run time, in this project's log group only.",
        )
        acknowledge_wildcard_resource(
            policy,
            stack.format_arn(service="codebuild", resource="report-group", resource_name=f"{project_name}-*"),
            "CDK grants a project its own test-report groups, named after the project.",
        )
        acknowledge(
            self.project,
            "AwsSolutions-CB3",
            "Building Docker images needs the Docker daemon, which CodeBuild runs only in privileged mode; "
            "builds run only the Dockerfile of the uploaded folder.",
        )
        for repository in base_image_repositories:
            acknowledge_wildcard_resource(
                policy,
                repository,
                "Base images (AWS Deep Learning Containers and configured registries) are pulled by name; "
                "the grant is read-only.",
            )
        acknowledge_wildcard_resource(
            policy,
            source_bucket.arn_for_objects(f"{contract.source_prefix}/*"),
            "Build sources are uploaded under one prefix with names chosen per build; read-only.",
        )
