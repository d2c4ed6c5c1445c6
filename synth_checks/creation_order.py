"""Creation order: a resource that names another of its stage by a literal must depend on it.

CloudFormation orders creation only by what it can see: `DependsOn`, `Ref`, `Fn::GetAtt` and `Fn::Sub`
references within a stack, and the stack dependencies CDK writes into the assembly manifest. A name or an
ARN written out as a literal (from configuration, so that other accounts can use it too) is invisible to
it: the referring resource may be created before the one it names, and fail. This module reads a Stage's
assembly (its manifest and templates) and reports every such reference without a dependency, direct or
transitive. It imports neither `aws_cdk` nor `constructs`: it is a pure function of the assembly's files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Per resource type: the property holding the physical name a template sets, the ARN service, and the
# resource part of its ARN(s) as prefixes (`{name}` is the name). A referring ARN matches when its resource
# part is one of these, or continues one after "/" or ":" (objects of a bucket, versions of a group).
NAMED_RESOURCE_TYPES: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "AWS::IAM::Role": ("RoleName", "iam", ("role{path}{name}",)),
    "AWS::IAM::ManagedPolicy": ("ManagedPolicyName", "iam", ("policy{path}{name}",)),
    "AWS::S3::Bucket": ("BucketName", "s3", ("{name}",)),
    "AWS::KMS::Alias": ("AliasName", "kms", ("{name}",)),
    "AWS::SNS::Topic": ("TopicName", "sns", ("{name}",)),
    "AWS::SQS::Queue": ("QueueName", "sqs", ("{name}",)),
    "AWS::Lambda::Function": ("FunctionName", "lambda", ("function:{name}",)),
    "AWS::Logs::LogGroup": ("LogGroupName", "logs", ("log-group:{name}",)),
    "AWS::ECR::Repository": ("RepositoryName", "ecr", ("repository/{name}",)),
    "AWS::CodeBuild::Project": ("Name", "codebuild", ("project/{name}",)),
    "AWS::Events::Rule": ("Name", "events", ("rule/{name}",)),
    "AWS::Events::EventBus": ("Name", "events", ("event-bus/{name}",)),
    "AWS::SSM::Parameter": ("Name", "ssm", ("parameter{name}",)),
    "AWS::SageMaker::ModelPackageGroup": (
        "ModelPackageGroupName",
        "sagemaker",
        ("model-package-group/{name}", "model-package/{name}"),
    ),
    "AWS::SageMaker::Model": ("ModelName", "sagemaker", ("model/{name}",)),
    "AWS::SageMaker::EndpointConfig": ("EndpointConfigName", "sagemaker", ("endpoint-config/{name}",)),
    "AWS::SageMaker::Endpoint": ("EndpointName", "sagemaker", ("endpoint/{name}",)),
    "AWS::SageMaker::Pipeline": ("PipelineName", "sagemaker", ("pipeline/{name}",)),
    "AWS::SageMaker::MonitoringSchedule": (
        "MonitoringScheduleName",
        "sagemaker",
        ("monitoring-schedule/{name}",),
    ),
    "AWS::SageMaker::DataQualityJobDefinition": (
        "JobDefinitionName",
        "sagemaker",
        ("data-quality-job-definition/{name}",),
    ),
    "AWS::SageMaker::ModelQualityJobDefinition": (
        "JobDefinitionName",
        "sagemaker",
        ("model-quality-job-definition/{name}",),
    ),
    "AWS::SageMaker::ModelBiasJobDefinition": (
        "JobDefinitionName",
        "sagemaker",
        ("model-bias-job-definition/{name}",),
    ),
    "AWS::SageMaker::ModelExplainabilityJobDefinition": (
        "JobDefinitionName",
        "sagemaker",
        ("model-explainability-job-definition/{name}",),
    ),
    "AWS::SageMaker::Image": ("ImageName", "sagemaker", ("image/{name}",)),
    "AWS::SageMaker::AppImageConfig": ("AppImageConfigName", "sagemaker", ("app-image-config/{name}",)),
    "AWS::SageMaker::StudioLifecycleConfig": (
        "StudioLifecycleConfigName",
        "sagemaker",
        ("studio-lifecycle-config/{name}",),
    ),
    "AWS::SageMaker::MlflowTrackingServer": (
        "TrackingServerName",
        "sagemaker",
        ("mlflow-tracking-server/{name}",),
    ),
}

# Literals that order nothing, because AWS does not look them up when it creates the referring resource:
# the Resource, Action and Condition elements of a policy statement (IAM takes an ARN of a resource that
# does not exist yet; a Principal, in contrast, is resolved at creation and must exist) and event
# patterns (data a rule matches, not a resource it needs).
_UNORDERED_LOCATIONS = re.compile(
    r"\.Statement\[\d+\]\.(Resource|NotResource|Action|NotAction|Condition)\b|\.EventPattern\b"
)

# SageMaker writes names lower-cased in its ARNs; other services keep the case.
_CASE_INSENSITIVE_SERVICES = frozenset({"sagemaker"})


@dataclass(frozen=True)
class StackTemplate:
    """One stack of a Stage's assembly: its artifact id, display name (`dev/Registry`), account, region,
    template, the stacks it depends on, and the construct path of each of its logical ids."""

    artifact_id: str
    display_name: str
    account: str
    region: str
    template: Mapping[str, Any]
    template_path: Path
    dependencies: frozenset[str]
    construct_paths: Mapping[str, str]

    @property
    def partition(self) -> str:
        if self.region.startswith("cn-"):
            return "aws-cn"
        if self.region.startswith("us-gov-"):
            return "aws-us-gov"
        return "aws"

    @property
    def pseudo_parameters(self) -> Mapping[str, str]:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
        }

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.template.get("Resources", {})
        return resources


@dataclass(frozen=True)
class NamedResource:
    stack: StackTemplate
    logical_id: str
    resource_type: str
    name: str
    service: str
    arn_resource_parts: tuple[str, ...]


@dataclass(frozen=True)
class UnorderedReference:
    """`referrer` names `referred` by a literal at `location`, and nothing orders their creation."""

    stack: StackTemplate
    logical_id: str
    construct_path: str
    location: str
    literal: str
    referred: NamedResource
    referred_construct_path: str

    def message(self) -> str:
        referred = self.referred
        where = (
            "the same stack: add `node.add_dependency(...)` on the referring construct"
            if referred.stack.artifact_id == self.stack.artifact_id
            else f"stack {referred.stack.display_name}: add a stack dependency on it"
        )
        return (
            f"{self.construct_path} (logical id {self.logical_id}) names "
            f"{referred.resource_type} '{referred.name}' ({self.referred_construct_path}) by the literal "
            f"'{self.literal}' at {self.location}, but does not depend on it, so CloudFormation may "
            f"create it first. The referred resource is in {where}."
        )


def read_stage_assembly(manifest_path: Path) -> list[StackTemplate]:
    """The stacks of one Stage's assembly (a `manifest.json` and the templates beside it)."""
    manifest = json.loads(manifest_path.read_text())
    stacks: list[StackTemplate] = []
    artifacts: Mapping[str, Any] = manifest.get("artifacts", {})
    for artifact_id, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        template_path = manifest_path.parent / artifact["properties"]["templateFile"]
        environment = str(artifact.get("environment", "aws://unknown-account/unknown-region"))
        account, region = environment.removeprefix("aws://").split("/", 1)
        metadata: dict[str, Any] = dict(artifact.get("metadata", {}))
        if "additionalMetadataFile" in artifact:
            metadata.update(
                json.loads((manifest_path.parent / artifact["additionalMetadataFile"]).read_text())
            )
        construct_paths = {
            str(entry["data"]): path.lstrip("/")
            for path, entries in metadata.items()
            for entry in entries
            if entry.get("type") == "aws:cdk:logicalId"
        }
        stacks.append(
            StackTemplate(
                artifact_id=artifact_id,
                display_name=str(artifact.get("displayName", artifact_id)),
                account=account,
                region=region,
                template=json.loads(template_path.read_text()),
                template_path=template_path,
                dependencies=frozenset(artifact.get("dependencies", ())),
                construct_paths=construct_paths,
            )
        )
    return stacks


def resolve_literal(value: Any, stack: StackTemplate) -> str | None:
    """A string the value always is, given the stack's account, region and partition; else None.

    Literals and `Fn::Join`/`Fn::Sub` of literals and pseudo parameters resolve; anything that refers to
    a resource or parameter (`Ref` to one, `Fn::GetAtt`, `Fn::ImportValue`, ...) does not.
    """
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref" and isinstance(argument, str):
        return stack.pseudo_parameters.get(argument)
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        return _resolve_join(argument[0], argument[1], stack)
    if function == "Fn::Sub" and isinstance(argument, str):
        return _resolve_sub(argument, stack.pseudo_parameters)
    return None


def _resolve_join(delimiter: Any, parts: Any, stack: StackTemplate) -> str | None:
    if not isinstance(delimiter, str) or not isinstance(parts, list):
        return None
    resolved = [resolve_literal(part, stack) for part in parts]
    if any(part is None for part in resolved):
        return None
    return delimiter.join(part for part in resolved if part is not None)


def _resolve_sub(text: str, pseudo_parameters: Mapping[str, str]) -> str | None:
    unresolved = False

    def substitute(match: re.Match[str]) -> str:
        nonlocal unresolved
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name not in pseudo_parameters:
            unresolved = True
            return ""
        return pseudo_parameters[name]

    resolved = re.sub(r"\$\{([^}]+)\}", substitute, text)
    return None if unresolved else resolved


def _named_resources(stacks: list[StackTemplate]) -> list[NamedResource]:
    named: list[NamedResource] = []
    for stack in stacks:
        for logical_id, resource in stack.resources.items():
            resource_type = str(resource.get("Type", ""))
            if resource_type not in NAMED_RESOURCE_TYPES:
                continue
            name_property, service, parts = NAMED_RESOURCE_TYPES[resource_type]
            properties: Mapping[str, Any] = resource.get("Properties", {})
            name = resolve_literal(properties.get(name_property), stack)
            if not name:
                continue
            path = resolve_literal(properties.get("Path", "/"), stack) or "/"
            named.append(
                NamedResource(
                    stack=stack,
                    logical_id=logical_id,
                    resource_type=resource_type,
                    name=name,
                    service=service,
                    arn_resource_parts=tuple(part.format(name=name, path=path) for part in parts),
                )
            )
    return named


def _literals(value: Any, stack: StackTemplate, location: str) -> Iterator[tuple[str, str, str]]:
    """(location, the key that holds it, literal) for every string the value resolves to, recursively."""
    resolved = resolve_literal(value, stack)
    if resolved is not None:
        key = location.rsplit(".", 1)[-1].split("[", 1)[0]
        yield location, key, resolved
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _literals(item, stack, f"{location}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _literals(item, stack, f"{location}[{index}]")


def _arn_matches(literal: str, named: NamedResource) -> bool:
    parts = literal.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    _, partition, service, region, account, resource = parts
    stack = named.stack
    if service != named.service or partition != stack.partition:
        return False
    if region not in ("", stack.region) or account not in ("", stack.account):
        return False
    if service in _CASE_INSENSITIVE_SERVICES:
        resource = resource.lower()
    for part in named.arn_resource_parts:
        expected = part.lower() if service in _CASE_INSENSITIVE_SERVICES else part
        if resource == expected or resource.startswith((expected + "/", expected + ":")):
            return True
    return False


def _refers(literal: str, key: str, named: NamedResource) -> bool:
    if literal.startswith("arn:"):
        return _arn_matches(literal, named)
    # A plain name counts only under the property that names that kind of resource (an EndpointName
    # names an endpoint), so a model and an endpoint that share a name are told apart.
    name_property = NAMED_RESOURCE_TYPES[named.resource_type][0]
    return key == name_property and literal == named.name


def references_of(resource: Mapping[str, Any]) -> set[str]:
    """Logical ids a resource refers to by Ref, Fn::GetAtt, Fn::Sub or DependsOn."""
    found: set[str] = set()
    depends_on = resource.get("DependsOn", [])
    found.update([depends_on] if isinstance(depends_on, str) else depends_on)

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for function, argument in value.items():
                if function == "Ref" and isinstance(argument, str):
                    found.add(argument)
                elif function == "Fn::GetAtt":
                    target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
                    found.add(str(target))
                elif function == "Fn::Sub":
                    text = argument[0] if isinstance(argument, list) else argument
                    if isinstance(text, str):
                        found.update(name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text))
                walk(argument)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({key: item for key, item in resource.items() if key != "DependsOn"})
    return found


def closure(start: str, edges: Mapping[str, set[str]] | Mapping[str, frozenset[str]]) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        for target in edges.get(pending.pop(), ()):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def _construct_path(stack: StackTemplate, logical_id: str) -> str:
    return stack.construct_paths.get(logical_id, f"{stack.display_name}/{logical_id}")


def unordered_references(stacks: list[StackTemplate]) -> list[UnorderedReference]:
    """Every literal reference, in the Stage's stacks, to a named resource of the Stage that it does not
    follow, directly or transitively."""
    named = _named_resources(stacks)
    stack_order = {stack.artifact_id: stack.dependencies for stack in stacks}
    found: list[UnorderedReference] = []
    for stack in stacks:
        earlier_stacks = closure(stack.artifact_id, stack_order)
        resource_order = {
            logical_id: references_of(resource) for logical_id, resource in stack.resources.items()
        }
        for logical_id, resource in stack.resources.items():
            earlier_resources: set[str] | None = None
            for location, key, literal in _literals(resource.get("Properties", {}), stack, "Properties"):
                if _UNORDERED_LOCATIONS.search(location):
                    continue
                for target in named:
                    if target.stack is stack and target.logical_id == logical_id:
                        continue  # a resource may name itself (a group's own policy)
                    if not _refers(literal, key, target):
                        continue
                    if target.stack is not stack:
                        if target.stack.artifact_id in earlier_stacks:
                            continue
                    else:
                        if earlier_resources is None:
                            earlier_resources = closure(logical_id, resource_order)
                        if target.logical_id in earlier_resources:
                            continue
                    found.append(
                        UnorderedReference(
                            stack=stack,
                            logical_id=logical_id,
                            construct_path=_construct_path(stack, logical_id),
                            location=location,
                            literal=literal,
                            referred=target,
                            referred_construct_path=_construct_path(target.stack, target.logical_id),
                        )
                    )
    return found
