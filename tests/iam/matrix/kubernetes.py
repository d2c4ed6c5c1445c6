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
