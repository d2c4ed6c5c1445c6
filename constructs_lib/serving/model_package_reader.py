"""Reads pinned model packages at deploy time: approval status and data-quality baseline."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CustomResource, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import custom_resources as cr
from constructs import Construct

from constructs_lib.shared.platform_function import PlatformFunction
from constructs_lib.shared.provider_framework import acknowledge_provider_framework


class ModelPackageReader(Construct):
    """A custom-resource provider whose function (functions/model_package_baseline, role `role_name`, which
    the source registries' group policies name) describes a model package of another account. `read`
    adds one resource per package: it fails the deployment with the reason unless the package is Approved
    and carries a data-quality baseline (or one is given), and exposes the baseline's S3 URIs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str,
        model_package_arns: Sequence[str],
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        logs_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not model_package_arns:
            raise ValueError("ModelPackageReader needs the ARNs of the packages it may read")
        reader = PlatformFunction(
            self,
            "Reader",
            package="model_package_baseline",
            description="Reads a pinned model package: approval status and data-quality baseline",
            environment={},
            vpc=vpc,
            subnets=subnets,
            logs_key=logs_key,
            role_name=role_name,
            timeout_seconds=60,
            removal_policy=removal_policy,
        )
        reader.policy.add_statements(
            iam.PolicyStatement(
                sid="DescribePinnedPackages",
                actions=["sagemaker:DescribeModelPackage"],
                resources=sorted(set(model_package_arns)),
            )
        )
        self.provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=reader.function,
            # Outside the VPC on purpose: the framework only invokes the reader through the Lambda API and
            # answers CloudFormation through S3, touching nothing only the VPC reaches. In the isolated
            # subnets it would need a Lambda interface endpoint (paid per AZ, per environment) or hang the
            # deployment for the custom-resource timeout. The reader stays in the VPC: it calls only the
            # SageMaker API, whose endpoint Studio needs anyway (synth_checks/reachability.py checks both).
            log_group=logs.LogGroup(
                self,
                "ProviderLogs",
                encryption_key=logs_key,
                retention=logs.RetentionDays.ONE_YEAR,
                removal_policy=removal_policy,
            ),
        )
        self._reader_arn = reader.function.function_arn
        self._acknowledge_provider_findings()

    def read(
        self,
        construct_id: str,
        *,
        model_package_arn: str,
        constraints_uri: str | None = None,
        statistics_uri: str | None = None,
    ) -> CustomResource:
        """The package's resource: `get_att_string("ConstraintsUri")`, `"StatisticsUri"`, `"ImageUri"`."""
        if (constraints_uri is None) != (statistics_uri is None):
            raise ValueError(
                f"{construct_id}: give both baseline URIs (constraints and statistics) or neither"
            )
        properties = {"ModelPackageArn": model_package_arn, "RequireApproved": "true"}
        if constraints_uri is not None and statistics_uri is not None:
            properties |= {"ConstraintsUri": constraints_uri, "StatisticsUri": statistics_uri}
        return CustomResource(
            self,
            construct_id,
            service_token=self.provider.service_token,
            resource_type="Custom::ModelPackage",
            properties=properties,
        )

    def _acknowledge_provider_findings(self) -> None:
        acknowledge_provider_framework(self.provider, [self._reader_arn])
