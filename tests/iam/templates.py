"""The synthesized templates of every stage, with CloudFormation's intrinsics resolved to consistent values.

CloudFormation decides physical names and ids at deploy time. Offline, each resource gets a stable stand-in
derived from its stack and logical id (`subnet-…`, `sg-…`, a key id), built the way AWS shapes them, so the
same resource reads the same wherever a policy names it: by `Ref`, `Fn::GetAtt`, a `Fn::GetStackOutput`
from another stack, an alias or a fixed name written as a literal ARN.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import aws_cdk as cdk

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


@dataclass(frozen=True)
class StackTemplate:
    """One synthesized stack: where it deploys and its template."""

    environment: str
    stack_id: str  # the construct id in its stage, e.g. `Studio-ml-research`
    stack_name: str  # CloudFormation's name, e.g. `dev-Studio-ml-research`
    account: str
    region: str
    template: Mapping[str, Any]

    @property
    def partition(self) -> str:
        return "aws-cn" if self.region.startswith("cn-") else "aws"

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.template.get("Resources", {})
        return resources


def stack_templates(assembly: cdk.cx_api.CloudAssembly) -> list[StackTemplate]:
    """Every stack of every stage of a synthesized app."""
    found: list[StackTemplate] = []
    for stack in assembly.stacks_recursively:
        environment, stack_id = stack.hierarchical_id.split("/", 1)
        found.append(
            StackTemplate(
                environment=environment,
                stack_id=stack_id,
                stack_name=stack.stack_name,
                account=stack.environment.account,
                region=stack.environment.region,
                template=stack.template,
            )
        )
    return found


@dataclass
class ResolvedTemplates:
    """Resolves intrinsics within and across the given stacks (one app: every environment)."""

    stacks: list[StackTemplate]
    _by_name: dict[tuple[str, str], StackTemplate] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._by_name = {(stack.account, stack.stack_name): stack for stack in self.stacks}

    # --- physical values ---------------------------------------------------------------------------

    def resolve(self, value: Any, stack: StackTemplate) -> Any:
        """`value` with every intrinsic function replaced by the value CloudFormation would give it."""
        if isinstance(value, list):
            return [self.resolve(item, stack) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((function, argument),) = value.items()
            functions: dict[str, Callable[[Any, StackTemplate], Any]] = {
                "Ref": self.ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Join": self._join,
                "Fn::Select": self._select,
                "Fn::Split": self._split,
                "Fn::Sub": self._sub,
                "Fn::GetStackOutput": self._stack_output,
                "Fn::ImportValue": self._import,
            }
            if function in functions:
                return functions[function](argument, stack)
            if function.startswith("Fn::"):
                raise NotImplementedError(f"{stack.stack_name}: intrinsic {function} is not modelled")
        return {key: self.resolve(item, stack) for key, item in value.items()}

    def ref(self, name: str, stack: StackTemplate) -> Any:
        pseudo = {
            "AWS::AccountId": stack.account,
            "AWS::Region": stack.region,
            "AWS::Partition": stack.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if stack.partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": stack.stack_name,
            "AWS::NoValue": None,
        }
        if name in pseudo:
            return pseudo[name]
        if name in stack.template.get("Parameters", {}):
            return stack.template["Parameters"][name].get("Default", f"parameter-{name}")
        kind = stack.resources[name]["Type"]
        if kind in _REF_ATTRIBUTES:
            return self.get_att(name, _REF_ATTRIBUTES[kind], stack)
        if kind in _ID_PREFIXES:
            return f"{_ID_PREFIXES[kind]}-{_digest(stack.account, stack.stack_name, name)}"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{stack.region}.amazonaws.com/{stack.account}/{self.name_of(name, stack)}"
        return self.name_of(name, stack)

    def get_att(self, logical_id: str, attribute: str, stack: StackTemplate) -> Any:
        resource = stack.resources[logical_id]
        kind = resource["Type"]
        properties = resource.get("Properties", {})
        name = self.name_of(logical_id, stack)
        unique = _digest(stack.account, stack.stack_name, logical_id)
        fields = {
            "partition": stack.partition,
            "region": stack.region,
            "account": stack.account,
            "name": name,
            "lower_name": name.lower(),
            "path": self.resolve(properties.get("Path", "/"), stack),
            "key_id": self._key_id(stack, logical_id),
            "unique": unique,
            "domain_id": f"d-{unique[:12]}",
            "parent": self.resolve(properties.get("DomainId", properties.get("ImageName", "")), stack),
        }
        template = _ATTRIBUTES.get((kind, attribute))
        if template is None and kind.startswith("AWS::SageMaker::") and attribute in _SAGEMAKER_ARNS:
            template = _ARN + f":sagemaker:{{region}}:{{account}}:{_SAGEMAKER_ARNS[attribute]}/{{lower_name}}"
        if template is not None:
            return template.format(**fields)
        if kind == "AWS::EC2::SecurityGroup" and attribute == "GroupId":
            return self.ref(logical_id, stack)
        if attribute in properties:
            return self.resolve(properties[attribute], stack)
        if kind.startswith("AWS::SageMaker::") and attribute.endswith("Name"):
            return name
        return f"{name}.{attribute}"

    def name_of(self, logical_id: str, stack: StackTemplate) -> str:
        """The resource's physical name: the one its template sets, else CloudFormation's generated one."""
        resource = stack.resources[logical_id]
        properties = resource.get("Properties", {})
        name_property = _NAME_PROPERTIES.get(resource["Type"])
        if name_property and name_property in properties:
            return str(self.resolve(properties[name_property], stack))
        generated = f"{stack.stack_name}-{logical_id[:40]}-{_digest(stack.stack_name, logical_id, length=12)}"
        if resource["Type"] == "AWS::S3::Bucket":
            return generated.lower()[:63]
        return generated[:64]

    def stack_named(self, account: str, stack_name: str) -> StackTemplate:
        return self._by_name[(account, stack_name)]

    # --- helpers -----------------------------------------------------------------------------------

    def _key_id(self, stack: StackTemplate, logical_id: str) -> str:
        hex_id = _digest(stack.account, stack.stack_name, logical_id, length=32)
        return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"

    def _get_att(self, argument: Any, stack: StackTemplate) -> Any:
        logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
        return self.get_att(logical_id, attribute, stack)

    def _join(self, argument: Any, stack: StackTemplate) -> str:
        separator, items = argument
        return str(separator).join(str(item) for item in self.resolve(items, stack))

    def _select(self, argument: Any, stack: StackTemplate) -> Any:
        index, items = argument
        return self.resolve(items, stack)[int(self.resolve(index, stack))]

    def _split(self, argument: Any, stack: StackTemplate) -> list[str]:
        separator, text = argument
        return str(self.resolve(text, stack)).split(separator)

    def _sub(self, argument: Any, stack: StackTemplate) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name], stack))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute, stack))
            return str(self.ref(name, stack))

        return _SUB_VARIABLE.sub(replace, text)

    def _stack_output(self, argument: Mapping[str, Any], stack: StackTemplate) -> Any:
        account = self.resolve(argument.get("AccountId", stack.account), stack)
        producer = self.stack_named(account, self.resolve(argument["StackName"], stack))
        output = producer.template["Outputs"][argument["OutputName"]]
        return self.resolve(output["Value"], producer)

    def _import(self, argument: Any, stack: StackTemplate) -> Any:
        export_name = self.resolve(argument, stack)
        for producer in self.stacks:
            if producer.account != stack.account or producer.region != stack.region:
                continue
            for output in producer.template.get("Outputs", {}).values():
                if self.resolve(output.get("Export", {}).get("Name"), producer) == export_name:
                    return self.resolve(output["Value"], producer)
        raise KeyError(f"{stack.stack_name}: no stack exports {export_name}")

    def resources(self, kind: str) -> Iterator[tuple[StackTemplate, str, Mapping[str, Any]]]:
        """Every resource of one type in every stack: (stack, logical id, resolved properties)."""
        for stack in self.stacks:
            for logical_id, resource in stack.resources.items():
                if resource["Type"] == kind:
                    yield stack, logical_id, self.resolve(resource.get("Properties", {}), stack)


# Types whose Ref is one of their attributes (an ARN, a key id, an alias name).
_REF_ATTRIBUTES = {
    "AWS::IAM::ManagedPolicy": "Arn",
    "AWS::SNS::Topic": "TopicArn",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupArn",
    "AWS::SageMaker::Pipeline": "PipelineArn",
    "AWS::SageMaker::Image": "ImageArn",
    "AWS::SageMaker::ImageVersion": "ImageVersionArn",
    "AWS::KMS::Key": "KeyId",
    "AWS::KMS::Alias": "AliasName",
}

_ID_PREFIXES = {
    "AWS::EC2::Subnet": "subnet",
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::SecurityGroup": "sg",
    "AWS::EC2::RouteTable": "rtb",
    "AWS::EC2::VPCEndpoint": "vpce",
    "AWS::EC2::InternetGateway": "igw",
    "AWS::EC2::NatGateway": "nat",
    "AWS::EFS::FileSystem": "fs",
}

# How AWS shapes each attribute, from the fields get_att computes.
_ARN = "arn:{partition}"
_ATTRIBUTES = {
    ("AWS::IAM::Role", "Arn"): _ARN + ":iam::{account}:role{path}{name}",
    ("AWS::IAM::Role", "RoleId"): "AROA{unique}",
    ("AWS::IAM::ManagedPolicy", "Arn"): _ARN + ":iam::{account}:policy{path}{name}",
    ("AWS::IAM::ManagedPolicy", "PolicyArn"): _ARN + ":iam::{account}:policy{path}{name}",
    ("AWS::KMS::Key", "Arn"): _ARN + ":kms:{region}:{account}:key/{key_id}",
    ("AWS::KMS::Key", "KeyId"): "{key_id}",
    ("AWS::S3::Bucket", "Arn"): _ARN + ":s3:::{name}",
    ("AWS::S3::Bucket", "DomainName"): "{name}.s3.amazonaws.com",
    ("AWS::EC2::VPC", "DefaultSecurityGroup"): "sg-{unique}",
    ("AWS::SageMaker::Domain", "DomainId"): "{domain_id}",
    ("AWS::SageMaker::Domain", "DomainArn"): _ARN + ":sagemaker:{region}:{account}:domain/{domain_id}",
    ("AWS::SageMaker::Domain", "Url"): "https://{domain_id}.studio.{region}.sagemaker.aws",
    ("AWS::SageMaker::Domain", "HomeEfsFileSystemId"): "fs-{unique}",
    ("AWS::SageMaker::Domain", "SecurityGroupIdForDomainBoundary"): "sg-{unique}",
    ("AWS::SageMaker::UserProfile", "UserProfileArn"): _ARN
    + ":sagemaker:{region}:{account}:user-profile/{parent}/{name}",
    ("AWS::SageMaker::Space", "SpaceArn"): _ARN + ":sagemaker:{region}:{account}:space/{parent}/{name}",
    ("AWS::SageMaker::ImageVersion", "ImageVersionArn"): _ARN
    + ":sagemaker:{region}:{account}:image-version/{parent}/1",
    ("AWS::Lambda::Function", "Arn"): _ARN + ":lambda:{region}:{account}:function:{name}",
    ("AWS::SQS::Queue", "Arn"): _ARN + ":sqs:{region}:{account}:{name}",
    ("AWS::Logs::LogGroup", "Arn"): _ARN + ":logs:{region}:{account}:log-group:{name}:*",
    ("AWS::ECR::Repository", "Arn"): _ARN + ":ecr:{region}:{account}:repository/{name}",
    ("AWS::Events::Rule", "Arn"): _ARN + ":events:{region}:{account}:rule/{name}",
    ("AWS::SNS::Topic", "TopicArn"): _ARN + ":sns:{region}:{account}:{name}",
    ("AWS::CodeBuild::Project", "Arn"): _ARN + ":codebuild:{region}:{account}:project/{name}",
}
# SageMaker attributes that are `<type>/<name>` ARNs.
_SAGEMAKER_ARNS = {
    "StudioLifecycleConfigArn": "studio-lifecycle-config",
    "ModelPackageGroupArn": "model-package-group",
    "PipelineArn": "pipeline",
    "MonitoringScheduleArn": "monitoring-schedule",
    "JobDefinitionArn": "data-quality-job-definition",
    "ImageArn": "image",
    "AppImageConfigArn": "app-image-config",
    "TrackingServerArn": "mlflow-tracking-server",
}

# The property that holds each type's physical name, where a template may set it.
_NAME_PROPERTIES = {
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": "PolicyName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Events::Rule": "Name",
    "AWS::CodeBuild::Project": "Name",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::MonitoringSchedule": "MonitoringScheduleName",
    "AWS::SageMaker::DataQualityJobDefinition": "JobDefinitionName",
    "AWS::SageMaker::StudioLifecycleConfig": "StudioLifecycleConfigName",
    "AWS::SageMaker::Image": "ImageName",
    "AWS::SageMaker::AppImageConfig": "AppImageConfigName",
    "AWS::SageMaker::UserProfile": "UserProfileName",
    "AWS::SageMaker::Space": "SpaceName",
    "AWS::SageMaker::MlflowTrackingServer": "TrackingServerName",
    "AWS::SSM::Parameter": "Name",
}
