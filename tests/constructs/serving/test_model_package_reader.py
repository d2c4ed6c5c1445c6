"""ModelPackageReader: a custom-resource provider whose function (fixed role name, which the source
registries name) may describe exactly the pinned packages; `read` adds one Custom::ModelPackage each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from constructs_lib.serving.model_package_reader import ModelPackageReader
from constructs_lib.shared.platform_key import PlatformKey
from tests.constructs.support import (
    REGION,
    SUBNET_IDS,
    bare_stack,
    imported_subnets,
    imported_vpc,
    logical_id,
    resource,
    synthesize,
)

PACKAGES = "arn:aws:sagemaker:eu-west-1:110000000001:model-package"
CHURN = f"{PACKAGES}/churn-model/3"
DEMAND = f"{PACKAGES}/demand-forecast/7"
ROLE_NAME = "staging-sagemaker-platform-package-reader"
CONSTRAINTS = "s3://staging-baselines/churn-model/constraints.json"
STATISTICS = "s3://staging-baselines/churn-model/statistics.json"


@dataclass(frozen=True)
class Reader:
    template: Template
    nag_errors: list[str]
    reader: ModelPackageReader
    logs_key: str
    packages: dict[str, str]  # construct id -> logical id of its Custom::ModelPackage

    def logical(self, path: str) -> str:
        construct: Any = self.reader
        for part in path.split("/"):
            construct = construct.node.find_child(part)
        return logical_id(construct)

    def properties(self, path: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.logical(path))["Properties"]
        return written

    def package(self, construct_id: str) -> dict[str, Any]:
        written: dict[str, Any] = resource(self.template, self.packages[construct_id])
        return written


@pytest.fixture(scope="module")
def reader(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Reader:
    outdir = tmp_path_factory.mktemp("reader")
    stack = bare_stack(cdk_context, outdir=outdir, nag=True)
    logs_key = PlatformKey(
        stack, "LogsKey", alias="alias/logs", description="Logs", removal_policy=cdk.RemovalPolicy.RETAIN
    )
    logs_key.allow_cloudwatch_logs()
    construct = ModelPackageReader(
        stack,
        "PackageReader",
        role_name=ROLE_NAME,
        # Unsorted, with a repeat: the policy lists each once, sorted.
        model_package_arns=[DEMAND, CHURN, DEMAND],
        vpc=imported_vpc(stack),
        subnets=imported_subnets(stack),
        logs_key=logs_key.key,
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    packages = {
        "Churn": construct.read("Churn", model_package_arn=CHURN),
        "Demand": construct.read(
            "Demand", model_package_arn=DEMAND, constraints_uri=CONSTRAINTS, statistics_uri=STATISTICS
        ),
    }
    with pytest.raises(ValueError, match="HalfGiven: give both baseline URIs"):
        construct.read("HalfGiven", model_package_arn=DEMAND, constraints_uri=CONSTRAINTS)
    synthesized = synthesize(stack, outdir)
    return Reader(
        synthesized.template,
        synthesized.nag_errors,
        construct,
        logs_key=logical_id(logs_key.key),
        packages={name: logical_id(package) for name, package in packages.items()},
    )


# --- the reader function ---------------------------------------------------------------------------------


def test_the_reader_runs_the_model_package_baseline_handler(reader: Reader) -> None:
    function = reader.properties("Reader/Function")
    assert function["Handler"] == "functions.model_package_baseline.handler.handler"
    assert function["Runtime"] == "python3.14"
    assert function["Timeout"] == 60
    assert function["VpcConfig"]["SubnetIds"] == list(SUBNET_IDS)
    assert (
        reader.properties("Reader/SecurityGroup")["GroupDescription"] == "model_package_baseline: HTTPS out"
    )
    # Invoked synchronously by the provider, which reports every failure to CloudFormation.
    assert "DeadLetterConfig" not in function
    reader.template.resource_count_is("AWS::SQS::Queue", 0)


def test_the_reader_role_has_the_fixed_name(reader: Reader) -> None:
    assert reader.properties("Reader/Role")["RoleName"] == ROLE_NAME


def test_the_reader_may_describe_exactly_the_pinned_packages(reader: Reader) -> None:
    statements = reader.properties("Reader/Policy")["PolicyDocument"]["Statement"]
    sagemaker = [
        statement
        for statement in statements
        if any(str(action).startswith("sagemaker:") for action in _as_list(statement["Action"]))
    ]
    assert sagemaker == [
        {
            "Sid": "DescribePinnedPackages",
            "Action": "sagemaker:DescribeModelPackage",
            "Effect": "Allow",
            "Resource": [CHURN, DEMAND],
        }
    ]


def test_the_reader_logs_to_a_retained_encrypted_group(reader: Reader) -> None:
    written = resource(reader.template, reader.logical("Reader/LogGroup"))
    assert written["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [reader.logs_key, "Arn"]}
    assert written["DeletionPolicy"] == "Retain"


# --- the provider ----------------------------------------------------------------------------------------


def test_the_provider_outside_the_vpc_invokes_the_reader_inside_it(reader: Reader) -> None:
    # The framework calls only the Lambda API (and S3 for its answer): in the isolated subnets it would
    # need a Lambda endpoint; the reader calls SageMaker, whose endpoint the VPC has (synth_checks/).
    framework = reader.properties("Provider/framework-onEvent")
    assert framework["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"] == {
        "Fn::GetAtt": [reader.logical("Reader/Function"), "Arn"]
    }
    assert "VpcConfig" not in framework
    assert reader.properties("Reader/Function")["VpcConfig"]["SubnetIds"] == list(SUBNET_IDS)
    assert framework["LoggingConfig"]["LogGroup"] == {"Ref": reader.logical("ProviderLogs")}


def test_the_provider_logs_are_encrypted_for_a_year(reader: Reader) -> None:
    written = resource(reader.template, reader.logical("ProviderLogs"))
    assert written["Properties"] == {
        "KmsKeyId": {"Fn::GetAtt": [reader.logs_key, "Arn"]},
        "RetentionInDays": 365,
    }
    assert written["DeletionPolicy"] == "Retain"


def test_two_functions_only(reader: Reader) -> None:
    # The reader and CDK's provider framework: no log-retention or waiter functions.
    reader.template.resource_count_is("AWS::Lambda::Function", 2)


# --- read() ----------------------------------------------------------------------------------------------


def test_read_requires_an_approved_package(reader: Reader) -> None:
    package = reader.package("Churn")
    assert package["Type"] == "Custom::ModelPackage"
    assert package["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [reader.logical("Provider/framework-onEvent"), "Arn"]},
        "ModelPackageArn": CHURN,
        "RequireApproved": "true",
    }


def test_read_passes_given_baseline_uris(reader: Reader) -> None:
    properties = reader.package("Demand")["Properties"]
    assert properties["ModelPackageArn"] == DEMAND
    assert properties["RequireApproved"] == "true"
    assert (properties["ConstraintsUri"], properties["StatisticsUri"]) == (CONSTRAINTS, STATISTICS)


def test_read_passes_no_override_without_uris(reader: Reader) -> None:
    properties = reader.package("Churn")["Properties"]
    assert "ConstraintsUri" not in properties
    assert "StatisticsUri" not in properties


def test_one_resource_per_read(reader: Reader) -> None:
    reader.template.resource_count_is("Custom::ModelPackage", 2)


# --- refusals and compliance ---------------------------------------------------------------------------


def test_no_package_is_refused(cdk_context: dict[str, Any]) -> None:
    stack = bare_stack(cdk_context)
    with pytest.raises(ValueError, match="ModelPackageReader needs the ARNs of the packages it may read"):
        ModelPackageReader(
            stack,
            "PackageReader",
            role_name=ROLE_NAME,
            model_package_arns=[],
            vpc=imported_vpc(stack),
            subnets=imported_subnets(stack),
            logs_key=kms.Key.from_key_arn(
                stack,
                "LogsKey",
                f"arn:aws:kms:{REGION}:123456789012:key/2b2b2b2b-2b2b-2b2b-2b2b-2b2b2b2b2b2b",
            ),
        )


def test_passes_the_compliance_packs_with_its_acknowledgements(reader: Reader) -> None:
    assert reader.nag_errors == []


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
