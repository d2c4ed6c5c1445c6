"""The VPC endpoints a VPC-only Studio domain needs when the VPC has no internet path."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

# Each is needed by Studio or by what users run from it with no internet route:
STUDIO_INTERFACE_ENDPOINTS: Mapping[str, ec2.InterfaceVpcEndpointAwsService] = {
    # SageMaker control plane (jobs, pipelines, registry, Studio apps) and inference.
    "SageMakerApi": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
    "SageMakerRuntime": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
    # The Studio web app and the notebook/app proxies it connects through.
    "SageMakerStudio": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_STUDIO,
    "SageMakerNotebook": ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_NOTEBOOK,
    # The SDK and CLI get credentials and caller identity through STS.
    "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    # App, job and endpoint logs and metrics.
    "CloudWatchLogs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "CloudWatchMonitoring": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_MONITORING,
    # Pulling images (Studio custom images, Docker access, jobs), and the layers via the S3 gateway.
    "EcrApi": ec2.InterfaceVpcEndpointAwsService.ECR,
    "EcrDocker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    # Reading and writing KMS-encrypted data.
    "Kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    # Starting image builds from Studio (Studio cannot run a privileged Docker build itself).
    "CodeBuild": ec2.InterfaceVpcEndpointAwsService.CODEBUILD,
    # SageMaker SDK defaults and Studio's Git credentials are read from SSM and Secrets Manager.
    "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    # Notifications from functions in the VPC (the model approval guard).
    "Sns": ec2.InterfaceVpcEndpointAwsService.SNS,
}


class StudioVpcEndpoints(Construct):
    """Interface endpoints (private DNS, HTTPS from inside the VPC only) and the S3 gateway endpoint.

    `extra_services` adds endpoints by name (e.g. the MLflow tracking servers' service). Exposes
    `security_group` (the endpoints' group) and `interface_endpoints` by name.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        vpc_cidr: str,
        extra_services: Mapping[str, ec2.IInterfaceVpcEndpointService] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        selection = ec2.SubnetSelection(subnets=list(subnets))
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="VPC interface endpoints: HTTPS from inside the VPC",
            allow_all_outbound=False,
        )
        self.security_group.add_ingress_rule(
            ec2.Peer.ipv4(vpc_cidr), ec2.Port.tcp(443), "HTTPS from inside the VPC"
        )
        self.interface_endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {
            name: ec2.InterfaceVpcEndpoint(
                self,
                name,
                vpc=vpc,
                service=service,
                subnets=selection,
                security_groups=[self.security_group],
                private_dns_enabled=True,
                open=False,
            )
            for name, service in {**STUDIO_INTERFACE_ENDPOINTS, **(extra_services or {})}.items()
        }
        self.s3_gateway = ec2.GatewayVpcEndpoint(
            self,
            "S3",
            vpc=vpc,
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[selection],
        )
