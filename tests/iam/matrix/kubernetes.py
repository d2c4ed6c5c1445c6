"""Kubernetes: the ACK controller's role and the role it acts as for each namespace (ADR 0017)."""

from __future__ import annotations

from collections.abc import Iterator

from platform_config import EnvironmentConfig, naming
from tests.iam.evaluator import ContextValue, Request
from tests.iam.matrix.base import (
    FOREIGN_SECURITY_GROUP,
    FOREIGN_SUBNET,
    JOB_ACTIONS,
    Asker,
    MatrixBase,
    changed,
    unlisted,
)

# The tag the controller puts on what it creates, with the resource's Kubernetes namespace.
NAMESPACE_TAG = "services.k8s.aws/namespace"
OTHER_NAMESPACE = "not-a-configured-namespace"


class KubernetesRequests(MatrixBase):
    """Requests of the controller's role and of each namespace's role."""

    def _kubernetes_requests(self, environment: EnvironmentConfig) -> Iterator[Request]:
        kubernetes = environment.kubernetes
        if kubernetes is None:
            return
        assert environment.studio is not None
        controller = self.role(environment, naming.ack_controller_role_name(environment.name))
        ask = Asker(
            group=f"kubernetes {environment.name}/controller",
            principal=controller,
            account=environment.account_id,
        )
        data_key = self.key(environment, "data")
        network = self._kubernetes_network(environment)
        job = self._arn(environment, "sagemaker", "training-job/a-job")
        for namespace in kubernetes.namespaces:
            role = self.role(environment, naming.ack_namespace_role_name(environment.name, namespace.name))
            yield ask(f"assumes namespace {namespace.name}'s role", "sts:AssumeRole", role, allowed=True)
        yield ask(
            "cannot assume the pipelines' role",
            "sts:AssumeRole",
            self.role(environment, naming.pipeline_role_name(environment.name)),
            allowed=False,
        )
        persona = environment.studio.personas[kubernetes.namespaces[0].persona]
        compliant = self._compliant(
            network, persona.job_instance_types[0], data_key, persona.network_isolation
        )
        yield ask(
            "cannot start even a compliant job itself",
            "sagemaker:CreateTrainingJob",
            job,
            allowed=False,
            context=compliant,
        )
        for namespace in kubernetes.namespaces:
            yield from self._namespace_requests(
                environment, namespace.name, namespace.persona, namespace.pipelines, network
            )
            if namespace.endpoints:
                yield from self._served_endpoint_requests(
                    environment, namespace.name, namespace.persona, namespace.endpoints, network
                )

    def _kubernetes_network(self, environment: EnvironmentConfig) -> tuple[list[str], str]:
        """The subnets and the namespaces' job security group, as CloudFormation gives them."""
        (domain, *_) = self.domains(environment)
        stack, logical_id, _ = self._resource(
            environment,
            "AWS::EC2::SecurityGroup",
            lambda p: p.get("GroupDescription") == "Jobs started from the Kubernetes namespaces",
        )
        return list(domain.subnet_ids), self.templates.get_att(logical_id, "GroupId", stack)

    @staticmethod
    def _compliant(
        network: tuple[list[str], str], instance_type: str, data_key: str, isolated: bool
    ) -> dict[str, ContextValue]:
        subnets, security_group = network
        return {
            "sagemaker:VpcSubnets": [subnets[0]],
            "sagemaker:VpcSecurityGroupIds": [security_group],
            "sagemaker:InstanceTypes": [instance_type],
            "sagemaker:VolumeKmsKeyArn": data_key,
            "sagemaker:OutputKmsKeyArn": data_key,
            "sagemaker:NetworkIsolation": "true" if isolated else "false",
        }

    def _namespace_requests(
        self,
        environment: EnvironmentConfig,
        namespace: str,
        persona_name: str,
        pipelines: tuple[str, ...],
        network: tuple[list[str], str],
    ) -> Iterator[Request]:
        assert environment.studio is not None
        persona = environment.studio.personas[persona_name]
        role = self.role(environment, naming.ack_namespace_role_name(environment.name, namespace))
        ask = Asker(
            group=f"kubernetes {environment.name}/{namespace}", principal=role, account=environment.account_id
        )
        data_key = self.key(environment, "data")
        studio_key = self.key(environment, "studio")
        compliant = self._compliant(
            network, persona.job_instance_types[0], data_key, persona.network_isolation
        )
        broken: dict[str, dict[str, ContextValue | None]] = {
            "in a subnet outside the platform's": {"sagemaker:VpcSubnets": [network[0][0], FOREIGN_SUBNET]},
            "without a VPC configuration": {
                "sagemaker:VpcSubnets": None,
                "sagemaker:VpcSecurityGroupIds": None,
            },
            "with another security group": {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]},
            f"on an instance type persona {persona_name} does not have": {
                "sagemaker:InstanceTypes": [unlisted(persona.job_instance_types)]
            },
            "with unencrypted volumes": {"sagemaker:VolumeKmsKeyArn": None},
            "with volumes under another key": {"sagemaker:VolumeKmsKeyArn": studio_key},
            "with unencrypted output": {"sagemaker:OutputKmsKeyArn": None},
            "tagged for another namespace": {f"aws:RequestTag/{NAMESPACE_TAG}": OTHER_NAMESPACE},
        }
        tagged: dict[str, ContextValue] = {
            f"aws:RequestTag/{NAMESPACE_TAG}": namespace,
            "aws:TagKeys": [NAMESPACE_TAG],
        }
        for action, kind in JOB_ACTIONS.items():
            if kind == "hyper-parameter-tuning-job":
                continue  # the controller reconciles no tuning jobs; the persona grant allows them anyway
            resource = self._arn(environment, "sagemaker", f"{kind}/{namespace}-a-job")
            yield ask(
                f"starts a compliant {kind}",
                action,
                resource,
                allowed=True,
                context=changed({**compliant, **tagged}),
            )
            for how, change in broken.items():
                yield ask(
                    f"cannot start a {kind} {how}",
                    action,
                    resource,
                    allowed=False,
                    context=changed({**compliant, **tagged}, change),
                )
        described = self._arn(environment, "sagemaker", "training-job/a-job")
        for owner, allowed, description in (
            (namespace, True, "describes a job of its own namespace"),
            (OTHER_NAMESPACE, False, "cannot describe a job of another namespace"),
        ):
            yield ask(
                description,
                "sagemaker:DescribeTrainingJob",
                described,
                allowed=allowed,
                context={f"aws:ResourceTag/{NAMESPACE_TAG}": owner},
            )
        scratch = naming.persona_scratch_prefix(f"k8s-{namespace}", persona_name)
        yield ask(
            "writes its own scratch place",
            "s3:PutObject",
            self.artifact_object(environment, f"{scratch}/x"),
            allowed=True,
        )
        yield ask(
            "cannot overwrite served model artifacts",
            "s3:PutObject",
            self.model_object(environment),
            allowed=False,
        )
        pipeline_role = self.pipeline_role(environment)
        for pipeline in pipelines:
            own = self._arn(
                environment, "sagemaker", f"pipeline/{naming.k8s_sagemaker_name(namespace, pipeline).lower()}"
            )
            for action in (
                "sagemaker:CreatePipeline",
                "sagemaker:UpdatePipeline",
                "sagemaker:DeletePipeline",
            ):
                yield ask(f"{action} on its pipeline {pipeline}", action, own, allowed=True)
            yield ask(
                f"cannot update the CloudFormation pipeline {pipeline}",
                "sagemaker:UpdatePipeline",
                self._arn(environment, "sagemaker", f"pipeline/{pipeline.lower()}"),
                allowed=False,
            )
            yield ask(
                f"cannot create {pipeline} in another namespace's name",
                "sagemaker:CreatePipeline",
                self._arn(environment, "sagemaker", f"pipeline/{OTHER_NAMESPACE}-{pipeline.lower()}"),
                allowed=False,
            )
        if pipelines and pipeline_role is not None:
            yield ask(
                "passes the pipelines' role to SageMaker",
                "iam:PassRole",
                pipeline_role,
                allowed=True,
                context={"iam:PassedToService": "sagemaker.amazonaws.com"},
            )
        if pipeline_role is not None:
            yield ask(
                "cannot pass the pipelines' role to another service",
                "iam:PassRole",
                pipeline_role,
                allowed=False,
                context={"iam:PassedToService": "lambda.amazonaws.com"},
            )

    def _served_endpoint_requests(
        self,
        environment: EnvironmentConfig,
        namespace: str,
        persona_name: str,
        endpoint_names: tuple[str, ...],
        network: tuple[list[str], str],
    ) -> Iterator[Request]:
        """What ACK does as the namespace's role for the endpoints it serves (ADR 0017): the models,
        configs and endpoints of its own names within the persona's guardrails, the serving role passed to
        SageMaker, the pinned package read in its source's registry; nothing of other endpoints."""
        assert environment.studio is not None and environment.serving is not None
        persona = environment.studio.personas[persona_name]
        role = self.role(environment, naming.ack_namespace_role_name(environment.name, namespace))
        ask = Asker(
            group=f"kubernetes {environment.name}/{namespace}", principal=role, account=environment.account_id
        )
        data_key = self.key(environment, "data")
        subnets, security_group = network
        tagged: dict[str, ContextValue] = {
            f"aws:RequestTag/{NAMESPACE_TAG}": namespace,
            "aws:TagKeys": [NAMESPACE_TAG],
        }
        in_the_vpc: dict[str, ContextValue] = {
            "sagemaker:VpcSubnets": [subnets[0]],
            "sagemaker:VpcSecurityGroupIds": [security_group],
            "sagemaker:NetworkIsolation": "true",
            **tagged,
        }
        endpoints = {endpoint.name: endpoint for endpoint in environment.serving.endpoints}
        for name in endpoint_names:
            endpoint = endpoints[name]
            assert endpoint.instances is not None
            model = self._arn(
                environment, "sagemaker", f"model/{naming.k8s_model_name(namespace, endpoint).lower()}"
            )
            config = self._arn(
                environment,
                "sagemaker",
                f"endpoint-config/{naming.k8s_endpoint_config_name(namespace, endpoint).lower()}",
            )
            own = self._arn(environment, "sagemaker", f"endpoint/{name.lower()}")
            encrypted: dict[str, ContextValue] = {
                "sagemaker:InstanceTypes": [endpoint.instances.instance_type],
                "sagemaker:VolumeKmsKeyArn": data_key,
                **tagged,
            }
            yield ask(
                f"creates {name}'s model in the VPC",
                "sagemaker:CreateModel",
                model,
                allowed=True,
                context=in_the_vpc,
            )
            model_breaks: dict[str, dict[str, ContextValue | None]] = {
                "outside the VPC": {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None},
                "in a subnet outside the platform's": {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]},
                "with another security group": {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]},
                "tagged for another namespace": {f"aws:RequestTag/{NAMESPACE_TAG}": OTHER_NAMESPACE},
            }
            for how, change in model_breaks.items():
                yield ask(
                    f"cannot create {name}'s model {how}",
                    "sagemaker:CreateModel",
                    model,
                    allowed=False,
                    context=changed(in_the_vpc, change),
                )
            yield ask(
                "cannot create a model outside its namespace's names",
                "sagemaker:CreateModel",
                self._arn(environment, "sagemaker", f"model/{OTHER_NAMESPACE}-{name.lower()}"),
                allowed=False,
                context=in_the_vpc,
            )
            yield ask(
                f"creates {name}'s encrypted endpoint config",
                "sagemaker:CreateEndpointConfig",
                config,
                allowed=True,
                context=encrypted,
            )
            config_breaks: dict[str, dict[str, ContextValue | None]] = {
                f"on an instance type persona {persona_name} does not have": {
                    "sagemaker:InstanceTypes": [unlisted(persona.job_instance_types)]
                },
                "with unencrypted volumes": {"sagemaker:VolumeKmsKeyArn": None},
                "with volumes under another key": {
                    "sagemaker:VolumeKmsKeyArn": self.key(environment, "studio")
                },
            }
            for how, change in config_breaks.items():
                yield ask(
                    f"cannot create {name}'s endpoint config {how}",
                    "sagemaker:CreateEndpointConfig",
                    config,
                    allowed=False,
                    context=changed(encrypted, change),
                )
            for action in (
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
            ):
                yield ask(
                    f"{action} on {name}",
                    action,
                    own,
                    allowed=True,
                    context=tagged if action == "sagemaker:CreateEndpoint" else None,
                )
            yield ask(
                f"cannot update {name} once another namespace owns it",
                "sagemaker:UpdateEndpoint",
                own,
                allowed=False,
                context={f"aws:ResourceTag/{NAMESPACE_TAG}": OTHER_NAMESPACE},
            )
            source = self.platform.environments[endpoint.model_package.source]
            pinned = naming.model_package_arn(
                source, endpoint.model_package.group, endpoint.model_package.version
            )
            yield ask(
                f"reads {name}'s pinned package",
                "sagemaker:DescribeModelPackage",
                pinned,
                allowed=True,
                account=source.account_id,
            )
            yield ask(
                f"cannot read another version than {name} pins",
                "sagemaker:DescribeModelPackage",
                naming.model_package_arn(
                    source, endpoint.model_package.group, endpoint.model_package.version + 1
                ),
                allowed=False,
                account=source.account_id,
            )
        # Endpoints it does not serve: CloudFormation's, or a name it might choose.
        for name in [e for e in endpoints if e not in endpoint_names] + ["not-a-served-endpoint"]:
            for action in (
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:InvokeEndpoint",
            ):
                yield ask(
                    f"cannot {action} on {name}, which it does not serve",
                    action,
                    self._arn(environment, "sagemaker", f"endpoint/{name.lower()}"),
                    allowed=False,
                )
        serving_role = self.role(environment, naming.serving_execution_role_name(environment.name))
        yield ask(
            "passes the serving role to SageMaker",
            "iam:PassRole",
            serving_role,
            allowed=True,
            context={"iam:PassedToService": "sagemaker.amazonaws.com"},
        )
        yield ask(
            "cannot pass the serving role to another service",
            "iam:PassRole",
            serving_role,
            allowed=False,
            context={"iam:PassedToService": "lambda.amazonaws.com"},
        )
