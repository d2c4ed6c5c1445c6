"""Studio: each persona of each domain, with its capabilities and guardrails; domain isolation; sign-in."""

from __future__ import annotations

from collections.abc import Iterator

from platform_config import EnvironmentConfig, PersonaConfig, naming
from tests.iam.evaluator import ContextValue, Outsider, Request
from tests.iam.matrix.base import (
    DOMAIN_ARN_TAG,
    FOREIGN_SECURITY_GROUP,
    FOREIGN_SUBNET,
    JOB_ACTIONS,
    SAGEMAKER,
    Asker,
    Domain,
    MatrixBase,
    actions_of,
    changed,
    unlisted,
)

# The tag Studio's notebook-job scheduler puts on the training jobs, pipelines and rules it creates.
NOTEBOOK_JOB_TAG = "sagemaker:is-scheduling-notebook-job"
# SageMaker's tag on the home EFS and NFS security groups it creates for a domain.
SAGEMAKER_CREATED_TAG = "aws:ResourceTag/ManagedByAmazonSageMakerResource"


class StudioRequests(MatrixBase):
    """Requests of the Studio personas and the people who sign in."""

    # --- teardown (disposable environments) -------------------------------------------------------

    def _teardown_requests(self, domain: Domain) -> Iterator[Request]:
        """The teardown deletes this domain's apps, spaces and profiles, and in the VPC what SageMaker tagged
        for a domain; nothing else, and never the domain (CloudFormation does)."""
        environment = domain.environment
        phases = {
            properties["Phase"]: properties
            for stack, _, properties in self.templates.resources("Custom::StudioTeardown")
            if stack.environment == environment.name
            and properties.get("DomainId", domain.domain_id) == domain.domain_id
        }
        if environment.retain_stateful_resources:
            assert not phases, f"{environment.name} is retained: no teardown may be deployed"
            return
        assert set(phases) == {"Contents", "Leftovers"}, f"{domain.name}: teardown phases {sorted(phases)}"
        account = environment.account_id
        # The role that may delete SageMaker's file systems and this domain's apps (personas delete apps too).
        teardown_roles = [
            role.arn
            for role in self.accounts.roles.values()
            if role.environment == environment.name
            and {"elasticfilesystem:DeleteFileSystem", "sagemaker:DeleteApp"}
            <= {
                action
                for _, document in role.identity_policies
                for statement in document.get("Statement", [])
                if "elasticfilesystem:" in str(statement)
                or domain.domain_id in str(statement.get("Resource"))
                for action in actions_of(statement)
            }
        ]
        assert len(teardown_roles) == 1, f"{domain.name}: teardown roles {teardown_roles}"
        request = Asker(
            group=f"studio teardown {environment.name}/{domain.name}",
            principal=teardown_roles[0],
            account=account,
        )
        region = environment.region
        vpc_arn = f"arn:aws:ec2:{region}:{account}:vpc/{phases['Leftovers']['VpcId']}"
        other_vpc = f"arn:aws:ec2:{region}:{account}:vpc/vpc-0f0f0f0f0f0f0f0f0"
        group = f"arn:aws:ec2:{region}:{account}:security-group/sg-0a0a0a0a0a0a0a0a0"
        file_system = f"arn:aws:elasticfilesystem:{region}:{account}:file-system/fs-0a0a0a0a0a0a0a0a0"
        tagged = {SAGEMAKER_CREATED_TAG: domain.arn}
        app = f"{domain.arn.replace(':domain/', ':app/')}/alice/JupyterLab/default"
        other_domain_app = f"arn:aws:sagemaker:{region}:{account}:app/d-0f0f0f0f0f0f/alice/JupyterLab/default"
        yield request("deletes an app of its domain", "sagemaker:DeleteApp", app, allowed=True)
        yield request(
            "cannot delete another domain's app", "sagemaker:DeleteApp", other_domain_app, allowed=False
        )
        yield request("cannot delete the domain", "sagemaker:DeleteDomain", domain.arn, allowed=False)
        yield request(
            "deletes SageMaker's NFS security group in the VPC",
            "ec2:DeleteSecurityGroup",
            group,
            allowed=True,
            context={"ec2:Vpc": vpc_arn, **tagged},
        )
        yield request(
            "cannot delete a security group SageMaker did not tag",
            "ec2:DeleteSecurityGroup",
            group,
            allowed=False,
            context={"ec2:Vpc": vpc_arn},
        )
        yield request(
            "cannot delete a security group in another VPC",
            "ec2:DeleteSecurityGroup",
            group,
            allowed=False,
            context={"ec2:Vpc": other_vpc, **tagged},
        )
        yield request(
            "deletes SageMaker's home EFS",
            "elasticfilesystem:DeleteFileSystem",
            file_system,
            allowed=True,
            context=tagged,
        )
        yield request(
            "cannot delete a file system SageMaker did not tag",
            "elasticfilesystem:DeleteFileSystem",
            file_system,
            allowed=False,
        )

    # --- personas ---------------------------------------------------------------------------------

    def _persona_requests(self, domain: Domain) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        account = environment.account_id
        data_key = self.key(environment, "data")
        for persona_name, role in sorted(domain.persona_roles.items()):
            persona = environment.studio.personas[persona_name]
            capabilities: set[str] = set(persona.capabilities)
            group = f"persona {environment.name}/{domain.name}/{persona_name}"

            request = Asker(group=group, principal=role, account=account)

            own_scratch = self.artifact_object(
                environment, f"{naming.persona_scratch_prefix(domain.name, persona_name)}/notes.csv"
            )
            yield request(
                "reads the platform's data",
                "s3:GetObject",
                self.artifact_object(environment, "data/train.csv"),
                allowed=True,
            )
            yield request("writes its own scratch place", "s3:PutObject", own_scratch, allowed=True)
            yield request("deletes in its own scratch place", "s3:DeleteObject", own_scratch, allowed=True)
            yield request(
                "decrypts the platform's data through S3",
                "kms:Decrypt",
                data_key,
                allowed=True,
                context={"kms:ViaService": f"s3.{environment.region}.amazonaws.com"},
            )
            yield request(
                "cannot overwrite served model artifacts",
                "s3:PutObject",
                self.model_object(environment),
                allowed=False,
            )
            yield request(
                "cannot delete served model artifacts",
                "s3:DeleteObject",
                self.model_object(environment),
                allowed=False,
            )
            other = next((p for p in sorted(domain.persona_roles) if p != persona_name), None)
            if other is not None:
                yield request(
                    f"cannot write persona {other}'s scratch place",
                    "s3:PutObject",
                    self.artifact_object(
                        environment, f"{naming.persona_scratch_prefix(domain.name, other)}/x"
                    ),
                    allowed=False,
                )
            yield request(
                "cannot delete the artifact bucket",
                "s3:DeleteBucket",
                self._arn(environment, "s3", naming.artifact_bucket_name(environment)),
                allowed=False,
            )
            for purpose in ("data", "studio", "logs"):
                yield request(
                    f"cannot schedule the {purpose} key's deletion",
                    "kms:ScheduleKeyDeletion",
                    self.key(environment, purpose),
                    allowed=False,
                )
            for registry_group in environment.model_registry.groups if environment.model_registry else ():
                yield request(
                    f"cannot delete model package group {registry_group.name}",
                    "sagemaker:DeleteModelPackageGroup",
                    self._arn(environment, "sagemaker", f"model-package-group/{registry_group.name}"),
                    allowed=False,
                )
            for file_system_id in domain.file_system_ids:
                # Studio mounts it over NFS (the security group decides); through the EFS API a persona may
                # neither remove it nor open it to other networks or principals.
                file_system = self._arn(environment, "elasticfilesystem", f"file-system/{file_system_id}")
                for action, what in (
                    ("elasticfilesystem:DeleteFileSystem", "delete"),
                    ("elasticfilesystem:CreateMountTarget", "add a mount target to"),
                    ("elasticfilesystem:PutFileSystemPolicy", "set the policy of"),
                ):
                    yield request(
                        f"cannot {what} team file system {file_system_id}", action, file_system, allowed=False
                    )
            # Studio itself.
            app = self._arn(environment, "sagemaker", f"app/{domain.domain_id}/a-user/jupyterlab/default")
            for instance_type in persona.app_instance_types[:1]:
                yield request(
                    "starts a Studio app on its instance types",
                    "sagemaker:CreateApp",
                    app,
                    allowed=True,
                    context={"sagemaker:InstanceTypes": [instance_type]},
                )
            if persona.app_instance_types:
                other_type = unlisted(persona.app_instance_types)
                yield request(
                    "cannot start a Studio app on another instance type",
                    "sagemaker:CreateApp",
                    app,
                    allowed=False,
                    context={"sagemaker:InstanceTypes": [other_type]},
                )
            for user in sorted(domain.user_personas):
                yield request(
                    f"cannot open user {user}'s Studio",
                    "sagemaker:CreatePresignedDomainUrl",
                    self._arn(environment, "sagemaker", f"user-profile/{domain.domain_id}/{user}"),
                    allowed=False,
                )
            yield from self._job_requests(
                domain, persona_name, allowed="jobs" in capabilities, request=request, data_key=data_key
            )
            yield from self._endpoint_requests(
                domain, persona, allowed="endpoints" in capabilities, request=request, data_key=data_key
            )
            yield from self._notebook_job_requests(domain, persona, request=request, data_key=data_key)
            yield from self._registry_requests(environment, capabilities, request)
            yield from self._experiment_requests(environment, capabilities, request)
            # Scheduled notebooks are pipelines too: the `pipelines` capability runs them on demand.
            for pipeline_name in [p.name for p in environment.pipelines] + [
                job.name for job in environment.notebook_jobs
            ]:
                yield request(
                    f"{'starts' if 'pipelines' in capabilities else 'cannot start'} pipeline {pipeline_name}",
                    "sagemaker:StartPipelineExecution",
                    self._arn(environment, "sagemaker", f"pipeline/{pipeline_name.lower()}"),
                    allowed="pipelines" in capabilities,
                )
            if environment.images is not None:
                for repository in environment.images.repositories:
                    yield request(
                        f"cannot push to repository {repository.name}",
                        "ecr:PutImage",
                        self._arn(environment, "ecr", f"repository/{repository.name}"),
                        allowed=False,
                    )
            passes = bool({"jobs", "endpoints", "notebook_jobs"} & capabilities)
            yield request(
                "passes its own role to SageMaker" if passes else "cannot pass its own role",
                "iam:PassRole",
                role,
                allowed=passes,
                context={"iam:PassedToService": SAGEMAKER},
            )
            yield request(
                "cannot pass its own role to another service",
                "iam:PassRole",
                role,
                allowed=False,
                context={"iam:PassedToService": "ec2.amazonaws.com"},
            )

    def _job_requests(
        self, domain: Domain, persona_name: str, *, allowed: bool, request: Asker, data_key: str
    ) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        persona = environment.studio.personas[persona_name]
        instance_types = persona.job_instance_types or ("ml.m5.large",)
        studio_key = self.key(environment, "studio")
        isolated = "true" if persona.network_isolation else "false"
        compliant = _compliant_job(domain, instance_types[0], data_key, isolated=isolated)
        broken: dict[str, dict[str, ContextValue | None]] = {
            "in a subnet outside the domain": {
                "sagemaker:VpcSubnets": [domain.subnet_ids[0], FOREIGN_SUBNET]
            },
            "outside any VPC": {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None},
            "with another security group": {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]},
            "on an instance type the persona does not have": {
                "sagemaker:InstanceTypes": [unlisted(instance_types)]
            },
            "with volumes under another key": {"sagemaker:VolumeKmsKeyArn": studio_key},
            "with unencrypted volumes": {"sagemaker:VolumeKmsKeyArn": None},
            "with output under another key": {"sagemaker:OutputKmsKeyArn": studio_key},
            "with unencrypted output": {"sagemaker:OutputKmsKeyArn": None},
        }
        if persona.network_isolation:
            broken["without network isolation"] = {"sagemaker:NetworkIsolation": "false"}
        kinds = dict(JOB_ACTIONS)
        for action, kind in kinds.items():
            resource = self._arn(environment, "sagemaker", f"{kind}/a-job")
            verb = "starts" if allowed else "cannot start"
            yield request(
                f"{verb} a compliant {kind}", action, resource, allowed=allowed, context=changed(compliant)
            )
            for how, change in broken.items():
                yield request(
                    f"cannot start a {kind} {how}",
                    action,
                    resource,
                    allowed=False,
                    context=changed(compliant, change),
                )
        # Transform jobs take their VPC and isolation from their model (CreateModel requires them).
        model_settings = ("sagemaker:Vpc", "sagemaker:NetworkIsolation")
        transform = {k: v for k, v in compliant.items() if not k.startswith(model_settings)}
        resource = self._arn(environment, "sagemaker", "transform-job/a-job")
        yield request(
            f"{'starts' if allowed else 'cannot start'} a compliant transform job",
            "sagemaker:CreateTransformJob",
            resource,
            allowed=allowed,
            context=changed(transform),
        )
        for how, change in broken.items():
            if any(key.startswith(model_settings) for key in change):
                continue
            yield request(
                f"cannot start a transform job {how}",
                "sagemaker:CreateTransformJob",
                resource,
                allowed=False,
                context=changed(transform, change),
            )

    def _notebook_job_requests(
        self, domain: Domain, persona: PersonaConfig, *, request: Asker, data_key: str
    ) -> Iterator[Request]:
        """What Studio's notebook-job scheduler asks with the user's role: run now (a training job tagged as a
        notebook job's, under the jobs guardrails), and schedules (a tagged pipeline and EventBridge rule,
        the rule passed the same role). Only tagged resources: never the platform's pipelines or rules."""
        environment = domain.environment
        capabilities = set(persona.capabilities)
        notebooks = "notebook_jobs" in capabilities
        # The jobs capability creates any compliant training job, tagged or not (unless it must be isolated).
        any_job = "jobs" in capabilities and not persona.network_isolation
        instance_types = persona.job_instance_types or ("ml.m5.large",)
        tagged: dict[str, ContextValue] = {
            f"aws:RequestTag/{NOTEBOOK_JOB_TAG}": "true",
            "aws:TagKeys": [NOTEBOOK_JOB_TAG],
        }
        compliant = {**_compliant_job(domain, instance_types[0], data_key, isolated="false"), **tagged}
        job = self._arn(environment, "sagemaker", "training-job/a-notebook-job")
        verb = "runs" if notebooks or any_job else "cannot run"
        yield request(
            f"{verb} a notebook job now",
            "sagemaker:CreateTrainingJob",
            job,
            allowed=notebooks or any_job,
            context=changed(compliant),
        )
        broken: dict[str, dict[str, ContextValue | None]] = {
            "in a subnet outside the domain": {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]},
            "with another security group": {"sagemaker:VpcSecurityGroupIds": [FOREIGN_SECURITY_GROUP]},
            "outside any VPC": {"sagemaker:VpcSubnets": None, "sagemaker:VpcSecurityGroupIds": None},
            "on an instance type the persona does not have": {
                "sagemaker:InstanceTypes": [unlisted(instance_types)]
            },
            "with volumes under another key": {"sagemaker:VolumeKmsKeyArn": self.key(environment, "studio")},
            "with unencrypted output": {"sagemaker:OutputKmsKeyArn": None},
        }
        for how, change in broken.items():
            yield request(
                f"cannot run a notebook job {how}",
                "sagemaker:CreateTrainingJob",
                job,
                allowed=False,
                context=changed(compliant, change),
            )
        removed: dict[str, ContextValue | None] = dict.fromkeys(tagged)
        untagged = changed(compliant, removed)
        yield request(
            f"{'starts' if any_job else 'cannot start'} an untagged training job",
            "sagemaker:CreateTrainingJob",
            job,
            allowed=any_job,
            context=untagged,
        )
        # Schedules: a tagged pipeline (which runs as the role it names: only this one may be passed) and a
        # tagged rule that starts it.
        pipeline = self._arn(environment, "sagemaker", "pipeline/a-notebook-schedule")
        on_tagged = {f"aws:ResourceTag/{NOTEBOOK_JOB_TAG}": "true"}
        for action, resource, context, allowed, what in (
            ("sagemaker:CreatePipeline", pipeline, tagged, notebooks, "a notebook job pipeline"),
            ("sagemaker:CreatePipeline", pipeline, {}, False, "an untagged pipeline"),
            ("sagemaker:DeletePipeline", pipeline, on_tagged, notebooks, "a notebook job pipeline"),
            (
                "events:PutRule",
                self._schedule_rule(environment),
                tagged,
                notebooks,
                "a notebook job schedule",
            ),
            ("events:PutRule", self._schedule_rule(environment), {}, False, "an untagged rule"),
            (
                "events:PutTargets",
                self._schedule_rule(environment),
                on_tagged,
                notebooks,
                "a schedule's target",
            ),
        ):
            verb = action.split(":")[1]
            yield request(
                f"{verb} {what}" if allowed else f"cannot {verb} {what}",
                action,
                resource,
                allowed=allowed,
                context=context,
            )
        starts = notebooks or "pipelines" in capabilities
        yield request(
            f"{'starts' if starts else 'cannot start'} a notebook job pipeline",
            "sagemaker:StartPipelineExecution",
            pipeline,
            allowed=starts,
            context=on_tagged,
        )
        for name in [p.name for p in environment.pipelines] + [j.name for j in environment.notebook_jobs]:
            yield request(
                f"cannot delete platform pipeline {name}",
                "sagemaker:DeletePipeline",
                self._arn(environment, "sagemaker", f"pipeline/{name.lower()}"),
                allowed=False,
            )
        for stack, logical_id, _ in self.templates.resources("AWS::Events::Rule"):
            if stack.environment == environment.name:
                yield request(
                    f"cannot retarget the platform's rule {logical_id}",
                    "events:PutTargets",
                    self.templates.get_att(logical_id, "Arn", stack),
                    allowed=False,
                )
        yield request(
            f"{'passes' if notebooks else 'cannot pass'} its own role to notebook job schedules",
            "iam:PassRole",
            request.principal if isinstance(request.principal, str) else request.principal.arn,
            allowed=notebooks,
            context={"iam:PassedToService": "events.amazonaws.com"},
        )

    def _schedule_rule(self, environment: EnvironmentConfig) -> str:
        return self._arn(environment, "events", "rule/a-notebook-schedule")

    def _endpoint_requests(
        self, domain: Domain, persona: PersonaConfig, *, allowed: bool, request: Asker, data_key: str
    ) -> Iterator[Request]:
        environment = domain.environment
        model = self._arn(environment, "sagemaker", "model/a-model")
        isolation: dict[str, ContextValue] = {
            "sagemaker:NetworkIsolation": "true" if persona.network_isolation else "false"
        }
        network: dict[str, ContextValue] = {
            "sagemaker:VpcSubnets": [domain.subnet_ids[0]],
            "sagemaker:VpcSecurityGroupIds": list(domain.security_group_ids),
            **isolation,
        }
        verb = "creates" if allowed else "cannot create"
        yield request(
            f"{verb} a model in the domain's VPC",
            "sagemaker:CreateModel",
            model,
            allowed=allowed,
            context=changed(network),
        )
        yield request(
            "cannot create a model outside the VPC",
            "sagemaker:CreateModel",
            model,
            allowed=False,
            context=isolation,
        )
        yield request(
            "cannot create a model in another subnet",
            "sagemaker:CreateModel",
            model,
            allowed=False,
            context=changed(network, {"sagemaker:VpcSubnets": [FOREIGN_SUBNET]}),
        )
        config = self._arn(environment, "sagemaker", "endpoint-config/a-config")
        instance_types = persona.job_instance_types or ("ml.m5.large",)
        compliant: dict[str, ContextValue] = {
            "sagemaker:InstanceTypes": [instance_types[0]],
            "sagemaker:VolumeKmsKeyArn": data_key,
            **isolation,
        }
        yield request(
            f"{verb} an encrypted endpoint config",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=allowed,
            context=changed(compliant),
        )
        yield request(
            "cannot create an endpoint config on another instance type",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=False,
            context=changed(compliant, {"sagemaker:InstanceTypes": [unlisted(instance_types)]}),
        )
        yield request(
            "cannot create an endpoint config with volumes under another key",
            "sagemaker:CreateEndpointConfig",
            config,
            allowed=False,
            context=changed(compliant, {"sagemaker:VolumeKmsKeyArn": self.key(environment, "studio")}),
        )
        if persona.network_isolation:
            for action, resource, context in (
                ("sagemaker:CreateModel", model, network),
                ("sagemaker:CreateEndpointConfig", config, compliant),
            ):
                yield request(
                    f"cannot {action} without network isolation",
                    action,
                    resource,
                    allowed=False,
                    context=changed(context, {"sagemaker:NetworkIsolation": "false"}),
                )

    def _experiment_requests(
        self, environment: EnvironmentConfig, capabilities: set[str], request: Asker
    ) -> Iterator[Request]:
        """MLflow clients log to the tracking server and write run artifacts to its store themselves."""
        if environment.experiments is None:
            return
        tracks = "experiments" in capabilities
        server = naming.mlflow_tracking_server_arn(environment)
        verb = "logs" if tracks else "cannot log"
        yield request(
            f"{verb} runs to the tracking server", "sagemaker-mlflow:LogMetric", server, allowed=tracks
        )
        yield request(
            f"{'opens' if tracks else 'cannot open'} the MLflow UI",
            "sagemaker:CreatePresignedMlflowTrackingServerUrl",
            server,
            allowed=tracks,
        )
        artifact = self.artifact_object(
            environment, f"{naming.MLFLOW_ARTIFACT_PREFIX}/1/run/artifacts/model.pkl"
        )
        yield request(
            f"{'stores' if tracks else 'cannot store'} run artifacts",
            "s3:PutObject",
            artifact,
            allowed=tracks,
        )

    def _registry_requests(
        self, environment: EnvironmentConfig, capabilities: set[str], request: Asker
    ) -> Iterator[Request]:
        for group in environment.model_registry.groups if environment.model_registry else ():
            version = self._arn(environment, "sagemaker", f"model-package/{group.name.lower()}/1")
            registers = "model_registry" in capabilities
            approves = "model_approval" in capabilities
            yield request(
                f"{'registers' if registers else 'cannot register'} a version of {group.name}",
                "sagemaker:CreateModelPackage",
                version,
                allowed=registers,
            )
            yield request(
                f"{'approves' if approves else 'cannot approve'} a version of {group.name}",
                "sagemaker:UpdateModelPackage",
                version,
                allowed=approves,
            )

    # --- domain isolation, sign-in -----------------------------------------------------------------

    def _domain_isolation_requests(self, domain: Domain) -> Iterator[Request]:
        environment = domain.environment
        assert environment.studio is not None
        other_domain = f"{domain.arn[: domain.arn.rindex('/')]}/d-0f0f0f0f0f0f"
        for persona_name, role in sorted(domain.persona_roles.items()):
            group = f"domain isolation {environment.name}/{domain.name}/{persona_name}"
            capabilities = set(environment.studio.personas[persona_name].capabilities)
            targets = [("sagemaker:DescribeApp", f"app/{domain.domain_id}/a-user/jupyterlab/default")]
            if "jobs" in capabilities:
                targets.append(("sagemaker:DescribeTrainingJob", "training-job/a-job"))
                targets.append(("sagemaker:StopProcessingJob", "processing-job/a-job"))
            if "endpoints" in capabilities:
                targets.append(("sagemaker:DeleteEndpoint", "endpoint/an-endpoint"))
            for action, resource in targets:
                arn = self._arn(environment, "sagemaker", resource)
                for owner, allowed in ((domain.arn, True), (other_domain, False)):
                    yield Request(
                        group=group,
                        description=f"{action} on a resource of {'its own' if allowed else 'another'} domain",
                        principal=role,
                        action=action,
                        resource=arn,
                        resource_account=environment.account_id,
                        expect_allowed=allowed,
                        context={f"aws:ResourceTag/{DOMAIN_ARN_TAG}": owner},
                        positive_control=allowed,
                    )

    def _sign_in_requests(self, domain: Domain) -> Iterator[Request]:
        """A person signs in with a role that carries the domain's sign-in policy and their profile tag."""
        environment = domain.environment
        sign_in = [
            (f"{stack.stack_name}/{logical_id}", properties["PolicyDocument"])
            for stack, logical_id, properties in self.templates.resources("AWS::IAM::ManagedPolicy")
            if stack.environment == environment.name
            and any(
                "sagemaker:CreatePresignedDomainUrl" in actions_of(statement)
                and domain.domain_id in str(statement.get("Resource"))
                for statement in properties["PolicyDocument"]["Statement"]
            )
        ]
        if not sign_in or len(domain.user_personas) < 1:
            return
        users = sorted(domain.user_personas)
        for user in users[:2]:
            person = Outsider(
                arn=self.role(environment, f"person-{user}"),
                account=environment.account_id,
                policies=tuple(sign_in),
                tags=(("studio-user-profile", user),),
            )
            for profile in [*users[:2], "not-a-user"]:
                yield Request(
                    group=f"sign-in {environment.name}/{domain.name}",
                    description=f"{user} {'opens' if profile == user else 'cannot open'} {profile}'s Studio",
                    principal=person,
                    action="sagemaker:CreatePresignedDomainUrl",
                    resource=self._arn(
                        environment, "sagemaker", f"user-profile/{domain.domain_id}/{profile}"
                    ),
                    resource_account=environment.account_id,
                    expect_allowed=profile == user,
                    positive_control=profile == user,
                )


def _compliant_job(
    domain: Domain, instance_type: str, data_key: str, *, isolated: str
) -> dict[str, ContextValue]:
    """A job request within a persona's guardrails: the domain's network, an instance type, the data key."""
    return {
        "sagemaker:VpcSubnets": [domain.subnet_ids[0]],
        "sagemaker:VpcSecurityGroupIds": list(domain.security_group_ids),
        "sagemaker:InstanceTypes": [instance_type],
        "sagemaker:VolumeKmsKeyArn": data_key,
        "sagemaker:OutputKmsKeyArn": data_key,
        "sagemaker:NetworkIsolation": isolated,
    }
