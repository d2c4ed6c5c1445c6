"""Within one environment: pipelines and their steps, images, the approval guard, notifications, what
services do for the platform, the permissions boundary, and deletion of stateful resources."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from platform_config import EnvironmentConfig, naming
from tests.iam.evaluator import ContextValue, Outsider, Request
from tests.iam.matrix.base import (
    FOREIGN_SECURITY_GROUP,
    FOREIGN_SUBNET,
    SAGEMAKER,
    Asker,
    MatrixBase,
    actions_of,
    as_list,
    changed,
)


class EnvironmentRequests(MatrixBase):
    """Requests that stay inside one environment's account."""

    # --- pipelines --------------------------------------------------------------------------------

    def _pipeline_role_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        role = self.pipeline_role(environment)
        if role is None:
            return
        group = f"pipeline role {environment.name}"
        for action in ("s3:PutObject", "s3:GetObject"):
            yield Request(
                group=group,
                description="writes and reads the model artifacts it trains",
                principal=role,
                action=action,
                resource=self.model_object(environment),
                resource_account=environment.account_id,
                expect_allowed=True,
                positive_control=True,
            )
        yield Request(
            group=group,
            description="cannot delete the artifact bucket",
            principal=role,
            action="s3:DeleteBucket",
            resource=self._arn(environment, "s3", naming.artifact_bucket_name(environment)),
            resource_account=environment.account_id,
            expect_allowed=False,
        )

    # --- images, approvals, deletion -------------------------------------------------------------------

    def _image_build_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        if environment.images is None:
            return
        group = f"image builds {environment.name}"
        build_role = self.role(environment, naming.image_build_role_name(environment.name))
        admin = Outsider(self.role(environment, "an-administrator"), account=environment.account_id)
        for repository in environment.images.repositories:
            arn = self._arn(environment, "ecr", f"repository/{repository.name}")
            for principal, allowed, who in (
                (build_role, True, "the build role"),
                (admin, False, "an administrator"),
            ):
                for action in ("ecr:PutImage", "ecr:CompleteLayerUpload"):
                    yield Request(
                        group=group,
                        description=f"{who} {'pushes' if allowed else 'cannot push'} to {repository.name}",
                        principal=principal,
                        action=action,
                        resource=arn,
                        resource_account=environment.account_id,
                        expect_allowed=allowed,
                        positive_control=allowed,
                    )
        for domain in self.domains(environment):
            assert environment.studio is not None
            project = self._arn(
                environment, "codebuild", f"project/{naming.image_build_project_name(environment.name)}"
            )
            for persona_name, role in sorted(domain.persona_roles.items()):
                builds = "image_builds" in environment.studio.personas[persona_name].capabilities
                yield Request(
                    group=group,
                    description=f"persona {persona_name} {'starts' if builds else 'cannot start'} builds",
                    principal=role,
                    action="codebuild:StartBuild",
                    resource=project,
                    resource_account=environment.account_id,
                    expect_allowed=builds,
                    positive_control=builds,
                )

    def _approval_guard_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """The guard sets a version below its baseline back to Rejected, in its own registry only."""
        if environment.model_registry is None or not any(
            g.baseline for g in environment.model_registry.groups
        ):
            return
        guards = [
            role.arn
            for role in self.accounts.roles.values()
            if role.environment == environment.name
            and any(
                "sagemaker:UpdateModelPackage" in actions_of(statement)
                for _, document in role.identity_policies
                for statement in document.get("Statement", [])
            )
            and "sagemaker.amazonaws.com" not in str(role.trust_policy)
        ]
        assert guards, f"{environment.name}: no role may update model packages for the approval guard"
        for guard in guards:
            for group_config in environment.model_registry.groups:
                if group_config.baseline is None:
                    continue
                version = self._arn(environment, "sagemaker", f"model-package/{group_config.name.lower()}/3")
                yield Request(
                    group=f"approval guard {environment.name}",
                    description=f"the guard rejects a version of {group_config.name}",
                    principal=guard,
                    action="sagemaker:UpdateModelPackage",
                    resource=version,
                    resource_account=environment.account_id,
                    expect_allowed=True,
                    positive_control=True,
                )
            yield Request(
                group=f"approval guard {environment.name}",
                description="the guard cannot delete a group",
                principal=guard,
                action="sagemaker:DeleteModelPackageGroup",
                resource=self._arn(
                    environment,
                    "sagemaker",
                    f"model-package-group/{environment.model_registry.groups[0].name}",
                ),
                resource_account=environment.account_id,
                expect_allowed=False,
            )

    def _no_deletion_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """No role the platform creates deletes a bucket, key, registry group or domain of its account; the
        account's administrator still can (positive control: teardown is not blocked by our policies)."""
        group = f"no deletion {environment.name}"
        targets: list[tuple[str, str]] = []
        for stack, logical_id, _ in self.templates.resources("AWS::S3::Bucket"):
            if stack.environment == environment.name:
                targets.append(("s3:DeleteBucket", self.templates.get_att(logical_id, "Arn", stack)))
        for stack, logical_id, _ in self.templates.resources("AWS::KMS::Key"):
            if stack.environment == environment.name:
                targets.append(("kms:ScheduleKeyDeletion", self.templates.get_att(logical_id, "Arn", stack)))
        for registry_group in environment.model_registry.groups if environment.model_registry else ():
            arn = self._arn(environment, "sagemaker", f"model-package-group/{registry_group.name}")
            targets.append(("sagemaker:DeleteModelPackageGroup", arn))
        for domain in self.domains(environment):
            targets.append(("sagemaker:DeleteDomain", domain.arn))
        admin = Outsider(self.role(environment, "an-administrator"), account=environment.account_id)
        roles = sorted(
            role.arn for role in self.accounts.roles.values() if role.environment == environment.name
        )
        for action, resource in targets:
            yield Request(
                group=group,
                description="the account's administrator may",
                principal=admin,
                action=action,
                resource=resource,
                resource_account=environment.account_id,
                expect_allowed=True,
                positive_control=True,
            )
            for role in roles:
                yield Request(
                    group=group,
                    description="no platform role may",
                    principal=role,
                    action=action,
                    resource=resource,
                    resource_account=environment.account_id,
                    expect_allowed=False,
                )

    def _boundary_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """A role under the environment's boundary whose own policy allows everything: the boundary alone
        decides, so what it denies is denied and the platform's everyday work is allowed."""
        boundary = naming.permissions_boundary_arn(environment)
        if boundary is None:
            return
        capped = Outsider(
            self.role(environment, "under-the-boundary"),
            account=environment.account_id,
            boundary_arn=boundary,
        )
        request = Asker(
            group=f"boundary {environment.name}", principal=capped, account=environment.account_id
        )
        account_role = self.role(environment, "any-role")
        yield request(
            "reads the platform's data", "s3:GetObject", self.model_object(environment), allowed=True
        )
        yield request(
            "passes a role to SageMaker",
            "iam:PassRole",
            account_role,
            allowed=True,
            context={"iam:PassedToService": SAGEMAKER},
        )
        yield request(
            "starts a training job",
            "sagemaker:CreateTrainingJob",
            self._arn(environment, "sagemaker", "training-job/a-job"),
            allowed=True,
        )
        for action in (
            "iam:CreateRole",
            "iam:PutRolePolicy",
            "iam:AttachRolePolicy",
            "iam:DeleteRolePermissionsBoundary",
        ):
            yield request(f"cannot {action}", action, account_role, allowed=False)
        assert environment.iam.permissions_boundary is not None
        if environment.iam.permissions_boundary.create:
            bucket = self._arn(environment, "s3", naming.artifact_bucket_name(environment))
            yield request("cannot delete the artifact bucket", "s3:DeleteBucket", bucket, allowed=False)
            yield request(
                "cannot change the artifact bucket's policy", "s3:PutBucketPolicy", bucket, allowed=False
            )
            for purpose in ("data", "logs"):
                key = self.key(environment, purpose)
                yield request(
                    f"cannot delete the {purpose} key", "kms:ScheduleKeyDeletion", key, allowed=False
                )
                yield request(
                    f"cannot change the {purpose} key's policy", "kms:PutKeyPolicy", key, allowed=False
                )
            for domain in self.domains(environment):
                yield request(
                    f"cannot delete domain {domain.name}", "sagemaker:DeleteDomain", domain.arn, allowed=False
                )

    def _notification_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """Everything that is meant to publish to one of the environment's topics can, through the topic's
        key: the alarms that name it, the rules that target it, the roles granted sns:Publish on it."""
        topics = {
            self.templates.ref(logical_id, stack): properties.get("KmsMasterKeyId")
            for stack, logical_id, properties in self.templates.resources("AWS::SNS::Topic")
            if stack.environment == environment.name
        }
        request = Asker(
            group=f"notifications {environment.name}", principal=SAGEMAKER, account=environment.account_id
        )
        cloudwatch = Outsider("cloudwatch.amazonaws.com")
        for topic, publisher, source, description in sorted(
            set(self._publishers(environment, topics)), key=str
        ):
            key = topics[topic]
            origin: dict[str, ContextValue] = (
                {"aws:SourceAccount": environment.account_id, "aws:SourceArn": source} if source else {}
            )
            yield request(
                f"{description} publishes",
                "sns:Publish",
                topic,
                allowed=True,
                principal=publisher,
                context=origin,
            )
            if key is not None:
                via = (
                    {}
                    if isinstance(publisher, Outsider)
                    else {"kms:ViaService": f"sns.{environment.region}.amazonaws.com"}
                )
                for action in ("kms:GenerateDataKey", "kms:Decrypt"):
                    yield request(
                        f"{description} uses the topic's key ({action})",
                        action,
                        self._key_arn(environment, key),
                        allowed=True,
                        principal=publisher,
                        context={**origin, **via},
                    )
            if publisher == cloudwatch:
                foreign = {
                    **origin,
                    "aws:SourceAccount": self.unconfigured_account,
                    "aws:SourceArn": source.replace(
                        f":{environment.account_id}:", f":{self.unconfigured_account}:"
                    ),
                }
                yield request(
                    "an alarm of another account cannot publish",
                    "sns:Publish",
                    topic,
                    allowed=False,
                    principal=cloudwatch,
                    context=foreign,
                )

    def _integration_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """What services do on the platform's behalf: rules start what they target with their role, and
        CloudWatch Logs encrypts each encrypted log group with its key (for that log group only)."""
        request = Asker(
            group=f"service integrations {environment.name}",
            principal=SAGEMAKER,
            account=environment.account_id,
        )
        target_actions = {":sagemaker:": "sagemaker:StartPipelineExecution", ":events:": "events:PutEvents"}
        for stack, logical_id, properties in self.templates.resources("AWS::Events::Rule"):
            if stack.environment != environment.name:
                continue
            for target in properties.get("Targets", []):
                action = next((a for marker, a in target_actions.items() if marker in target["Arn"]), None)
                if (
                    "RoleArn" not in target
                    or action is None
                    or f":{environment.account_id}:" not in target["Arn"]
                ):
                    continue
                yield request(
                    f"rule {logical_id}'s role may {action}",
                    action,
                    target["Arn"],
                    allowed=True,
                    principal=target["RoleArn"],
                    context={"events:source": ["aws.s3"], "events:detail-type": ["Object Created"]}
                    if action == "events:PutEvents"
                    else {},
                )
        logs = Outsider(f"logs.{environment.region}.amazonaws.com")
        for stack, logical_id, properties in self.templates.resources("AWS::Logs::LogGroup"):
            if stack.environment != environment.name or "KmsKeyId" not in properties:
                continue
            group_arn = self.templates.get_att(logical_id, "Arn", stack).removesuffix(":*")
            key = self._key_arn(environment, properties["KmsKeyId"])
            foreign = group_arn.replace(f":{environment.account_id}:", f":{self.unconfigured_account}:")
            for arn, allowed in ((group_arn, True), (foreign, False)):
                yield request(
                    f"CloudWatch Logs {'encrypts' if allowed else 'cannot encrypt'} log group "
                    f"{'of this account' if allowed else 'of another account'} with its key",
                    "kms:GenerateDataKey",
                    key,
                    allowed=allowed,
                    principal=logs,
                    context={"kms:EncryptionContext:aws:logs:arn": arn},
                )
        role = self.pipeline_role(environment)
        if role is None:
            return
        yield request(
            "the pipeline role passes itself to its jobs",
            "iam:PassRole",
            role,
            allowed=True,
            principal=role,
            context={"iam:PassedToService": SAGEMAKER},
        )
        yield request(
            "the pipeline role reads new source data",
            "s3:GetObject",
            self._arn(environment, "s3", f"{naming.data_bucket_name(environment)}/incoming/x.csv"),
            allowed=True,
            principal=role,
        )
        for pipeline in environment.pipelines:
            if pipeline.model_package_group is not None:
                version = f"model-package/{pipeline.model_package_group.lower()}/4"
                yield request(
                    f"{pipeline.name} registers into {pipeline.model_package_group}",
                    "sagemaker:CreateModelPackage",
                    self._arn(environment, "sagemaker", version),
                    allowed=True,
                    principal=role,
                )

    def _pipeline_step_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        """Every step of every deployed pipeline, read from its rendered definition (the body that deploys):
        the call SageMaker makes for it as the pipeline's role, with the request context its arguments give
        (instance type, keys, network; parameters at their defaults) must be allowed, and so must passing
        the role the step names."""
        for stack, _, properties in self.templates.resources("AWS::SageMaker::Pipeline"):
            if stack.environment != environment.name:
                continue
            body = properties["PipelineDefinition"]["PipelineDefinitionBody"]
            definition = json.loads(body) if isinstance(body, str) else body
            defaults = {
                parameter["Name"]: parameter.get("DefaultValue")
                for parameter in definition.get("Parameters", [])
            }
            request = Asker(
                group=f"pipeline steps {environment.name}/{properties['PipelineName']}",
                principal=properties["RoleArn"],
                account=environment.account_id,
            )
            for step in _flattened(definition["Steps"]):
                call = _step_call(step, defaults)
                if call is None:
                    continue
                action, kind, name, context = call
                resource = self._arn(environment, "sagemaker", f"{kind}/{name}")
                yield request(
                    f"step {step['Name']} ({step['Type']})", action, resource, allowed=True, context=context
                )
                # The same call with one guardrail broken: what a changed definition could ask for.
                for how, change in _broken_job_settings(context, self.key(environment, "logs")).items():
                    yield request(
                        f"step {step['Name']} {how}",
                        action,
                        resource,
                        allowed=False,
                        context=changed(context, change),
                    )
                passed = step["Arguments"].get("RoleArn") or step["Arguments"].get("ExecutionRoleArn")
                if passed:
                    yield request(
                        f"step {step['Name']} passes its role",
                        "iam:PassRole",
                        passed,
                        allowed=True,
                        context={"iam:PassedToService": SAGEMAKER},
                    )

    def _publishers(
        self, environment: EnvironmentConfig, topics: Mapping[str, Any]
    ) -> Iterator[tuple[str, str | Outsider, str, str]]:
        """(topic, publisher, the publishing resource's ARN or "", description) for every publisher."""
        region, account = environment.region, environment.account_id
        for stack, logical_id, properties in self.templates.resources("AWS::CloudWatch::Alarm"):
            if stack.environment != environment.name:
                continue
            name = properties.get("AlarmName", logical_id)
            alarm = f"arn:{naming.partition(environment)}:cloudwatch:{region}:{account}:alarm:{name}"
            for action in properties.get("AlarmActions", []) + properties.get("OKActions", []):
                if action in topics:
                    yield action, Outsider("cloudwatch.amazonaws.com"), alarm, f"alarm {name}"
        for stack, logical_id, properties in self.templates.resources("AWS::Events::Rule"):
            if stack.environment != environment.name:
                continue
            rule = self.templates.get_att(logical_id, "Arn", stack)
            for target in properties.get("Targets", []):
                if target["Arn"] in topics:
                    yield target["Arn"], Outsider("events.amazonaws.com"), rule, f"rule {logical_id}"
        for role in self.accounts.roles.values():
            if role.environment != environment.name:
                continue
            granted = {
                resource
                for _, document in role.identity_policies
                for statement in document.get("Statement", [])
                if statement["Effect"] == "Allow" and "sns:Publish" in actions_of(statement)
                for resource in as_list(statement["Resource"])
            }
            for topic in sorted(granted & set(topics)):
                yield topic, role.arn, "", f"role {role.name}"


def _flattened(steps: Sequence[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
    """Steps in order, the branches of condition steps included."""
    for step in steps:
        yield step
        if step["Type"] == "Condition":
            yield from _flattened(step["Arguments"].get("IfSteps", []))
            yield from _flattened(step["Arguments"].get("ElseSteps", []))


def _step_value(value: Any, defaults: Mapping[str, Any]) -> Any:
    """A step argument as the request carries it: parameters at their defaults, booleans as IAM reads them;
    None where only the execution knows (another step's output, a parameter without a default)."""
    if isinstance(value, dict):
        reference = value.get("Get", "")
        if isinstance(reference, str) and reference.startswith("Parameters."):
            return defaults.get(reference.removeprefix("Parameters."))
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_step_value(item, defaults) for item in value]
    return value


def _dig(arguments: Mapping[str, Any], path: str) -> Any:
    node: Any = arguments
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


_NETWORK = "NetworkConfig"  # a processing job's network settings
# What each kind of step asks SageMaker for: action, resource type, the argument naming the resource, and
# where each condition key's value sits in the step's arguments.
_STEP_CALLS: Mapping[str, tuple[str, str, str, Mapping[str, str]]] = {
    "Processing": (
        "sagemaker:CreateProcessingJob",
        "processing-job",
        "ProcessingJobName",
        {
            "sagemaker:InstanceTypes": "ProcessingResources.ClusterConfig.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "ProcessingResources.ClusterConfig.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "ProcessingOutputConfig.KmsKeyId",
            "sagemaker:VpcSubnets": f"{_NETWORK}.VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": f"{_NETWORK}.VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": f"{_NETWORK}.EnableNetworkIsolation",
            "sagemaker:InterContainerTrafficEncryption": f"{_NETWORK}.EnableInterContainerTrafficEncryption",
        },
    ),
    "Training": (
        "sagemaker:CreateTrainingJob",
        "training-job",
        "TrainingJobName",
        {
            "sagemaker:InstanceTypes": "ResourceConfig.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "ResourceConfig.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "OutputDataConfig.KmsKeyId",
            "sagemaker:VpcSubnets": "VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": "VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": "EnableNetworkIsolation",
            "sagemaker:InterContainerTrafficEncryption": "EnableInterContainerTrafficEncryption",
        },
    ),
    "Transform": (
        "sagemaker:CreateTransformJob",
        "transform-job",
        "TransformJobName",
        {
            "sagemaker:InstanceTypes": "TransformResources.InstanceType",
            "sagemaker:VolumeKmsKeyArn": "TransformResources.VolumeKmsKeyId",
            "sagemaker:OutputKmsKeyArn": "TransformOutput.KmsKeyId",
        },
    ),
    "Model": (
        "sagemaker:CreateModel",
        "model",
        "ModelName",
        {
            "sagemaker:VpcSubnets": "VpcConfig.Subnets",
            "sagemaker:VpcSecurityGroupIds": "VpcConfig.SecurityGroupIds",
            "sagemaker:NetworkIsolation": "EnableNetworkIsolation",
        },
    ),
    "RegisterModel": ("sagemaker:CreateModelPackage", "model-package", "ModelPackageGroupName", {}),
}
_STEP_CALLS = {
    **_STEP_CALLS,
    "QualityCheck": _STEP_CALLS["Processing"],
    "ClarifyCheck": _STEP_CALLS["Processing"],
}
# Keys whose values are lists in the request, whatever the step writes.
_LIST_KEYS = {"sagemaker:InstanceTypes", "sagemaker:VpcSubnets", "sagemaker:VpcSecurityGroupIds"}


def _step_call(
    step: Mapping[str, Any], defaults: Mapping[str, Any]
) -> tuple[str, str, str, dict[str, ContextValue]] | None:
    if step["Type"] not in _STEP_CALLS:
        return None
    action, kind, name_argument, keys = _STEP_CALLS[step["Type"]]
    arguments = step["Arguments"]
    name = str(_step_value(arguments.get(name_argument), defaults) or step["Name"]).lower()
    if kind == "model-package":
        name = f"{name}/1"
    context: dict[str, ContextValue] = {}
    for key, path in keys.items():
        value = _step_value(_dig(arguments, path), defaults)
        if value is None or (isinstance(value, list) and None in value):
            continue
        context[key] = (
            [str(item) for item in value]
            if isinstance(value, list)
            else ([str(value)] if key in _LIST_KEYS else str(value))
        )
    # The tags the request carries (the notebook-job tags a persona's capability is conditioned on).
    tags = {
        str(tag["Key"]): str(tag["Value"])
        for tag in arguments.get("Tags", [])
        if isinstance(tag.get("Key"), str) and isinstance(tag.get("Value"), str)
    }
    if tags:
        context.update({f"aws:RequestTag/{key}": value for key, value in tags.items()})
        context["aws:TagKeys"] = sorted(tags)
    return action, kind, name, context


def _broken_job_settings(
    context: Mapping[str, ContextValue], other_key: str
) -> dict[str, dict[str, ContextValue | None]]:
    """Each guardrail that a request context carries, broken on its own."""
    broken: dict[str, dict[str, ContextValue | None]] = {}
    if "sagemaker:VpcSubnets" in context:
        broken["in a subnet outside the platform's"] = {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]}
        broken["with another security group"] = {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]}
        broken["outside any VPC"] = {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None}
    for key, what in (("sagemaker:VolumeKmsKeyArn", "volumes"), ("sagemaker:OutputKmsKeyArn", "output")):
        if key in context:
            broken[f"with {what} under another key"] = {key: other_key}
            broken[f"with unencrypted {what}"] = {key: None}
    return broken
