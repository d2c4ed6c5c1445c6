"""What IAM knows about each account once the templates are deployed: principals and resource policies.

Read from the resolved templates of every stage: each role with its trust policy, identity policies
(inline, attached customer-managed, AWS-managed) and permissions boundary; each resource policy (bucket,
key, repository, model package group, event bus, topic, queue) under the ARNs it governs.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.iam.templates import ResolvedTemplates, StackTemplate

Document = Mapping[str, Any]

# AWS-managed policies the templates attach (CDK's Lambda roles), as AWS publishes them. Any other one
# fails the model: a policy the evaluator cannot read would make its verdicts guesses.
AWS_MANAGED_POLICIES: Mapping[str, Document] = {
    "service-role/AWSLambdaBasicExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": "*",
            }
        ],
    },
    "service-role/AWSLambdaVPCAccessExecutionRole": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": "*",
            }
        ],
    },
}


@dataclass
class Role:
    """A role as IAM sees it once deployed."""

    arn: str
    name: str
    account: str
    environment: str
    path: str  # `<stack name>/<logical id>`, for messages
    trust_policy: Document
    identity_policies: list[tuple[str, Document]] = field(default_factory=list)
    boundary_arn: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Accounts:
    """Every role and resource policy of the app, and the managed policies a boundary may name."""

    templates: ResolvedTemplates
    roles: dict[str, Role] = field(default_factory=dict)  # by ARN
    managed_policies: dict[str, Document] = field(default_factory=dict)  # by ARN
    # (ARN pattern, policy name, document): the first pattern that matches a resource governs it.
    resource_policies: list[tuple[str, str, Document]] = field(default_factory=list)
    key_aliases: dict[tuple[str, str], str] = field(default_factory=dict)  # (account, alias) -> key ARN

    @classmethod
    def from_templates(
        cls, templates: ResolvedTemplates, *, existing_policies: Mapping[str, Document] | None = None
    ) -> Accounts:
        """`existing_policies` are managed policies that exist outside the templates (by ARN)."""
        accounts = cls(templates=templates, managed_policies=dict(existing_policies or {}))
        accounts._read_managed_policies()
        accounts._read_roles()
        accounts._read_resource_policies()
        return accounts

    # --- queries -----------------------------------------------------------------------------------

    def role(self, arn: str) -> Role:
        if arn not in self.roles:
            raise KeyError(f"no template creates the role {arn}")
        return self.roles[arn]

    def roles_where(self, *, environment: str, name_contains: str = "") -> list[Role]:
        return [r for r in self.roles.values() if r.environment == environment and name_contains in r.path]

    def resource_policy(self, resource_arn: str) -> tuple[str, Document] | None:
        for pattern, name, document in self.resource_policies:
            if fnmatch.fnmatchcase(resource_arn, pattern):
                return name, document
        return None

    def key_arn(self, account: str, alias: str) -> str:
        return self.key_aliases[(account, alias)]

    def aliases_of(self, key_arn: str) -> list[str]:
        return sorted(alias for (_, alias), arn in self.key_aliases.items() if arn == key_arn)

    def identity_documents(self, role: Role) -> list[tuple[str, Document]]:
        return list(role.identity_policies)

    def boundary_of(self, boundary_arn: str | None, principal: str) -> list[tuple[str, Document]] | None:
        """The boundary's document; a boundary nobody can read fails, rather than being left out."""
        if boundary_arn is None:
            return None
        if boundary_arn not in self.managed_policies:
            raise KeyError(f"{principal}: its permissions boundary {boundary_arn} is not known")
        return [(boundary_arn, self.managed_policies[boundary_arn])]

    # --- reading -----------------------------------------------------------------------------------

    def _read_managed_policies(self) -> None:
        for stack, logical_id, properties in self.templates.resources("AWS::IAM::ManagedPolicy"):
            arn = self.templates.get_att(logical_id, "PolicyArn", stack)
            self.managed_policies[arn] = properties["PolicyDocument"]

    def _read_roles(self) -> None:
        names: dict[tuple[str, str], Role] = {}
        for stack, logical_id, properties in self.templates.resources("AWS::IAM::Role"):
            arn = self.templates.get_att(logical_id, "Arn", stack)
            role = Role(
                arn=arn,
                name=self.templates.name_of(logical_id, stack),
                account=stack.account,
                environment=stack.environment,
                path=f"{stack.stack_name}/{logical_id}",
                trust_policy=properties["AssumeRolePolicyDocument"],
                boundary_arn=properties.get("PermissionsBoundary"),
                tags={tag["Key"]: tag["Value"] for tag in properties.get("Tags", [])},
            )
            for inline in properties.get("Policies", []):
                role.identity_policies.append(
                    (f"{role.name}/{inline['PolicyName']}", inline["PolicyDocument"])
                )
            for policy_arn in properties.get("ManagedPolicyArns", []):
                role.identity_policies.append((policy_arn, self._managed(policy_arn, stack)))
            self.roles[arn] = role
            names[(stack.account, role.name)] = role
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for stack, logical_id, properties in self.templates.resources(kind):
                for role_name in properties.get("Roles", []):
                    policy_name = f"{stack.stack_name}/{logical_id}"
                    names[(stack.account, role_name)].identity_policies.append(
                        (policy_name, properties["PolicyDocument"])
                    )

    def _managed(self, policy_arn: str, stack: StackTemplate) -> Document:
        if policy_arn in self.managed_policies:
            return self.managed_policies[policy_arn]
        aws_prefix = f"arn:{stack.partition}:iam::aws:policy/"
        if policy_arn.startswith(aws_prefix) and policy_arn[len(aws_prefix) :] in AWS_MANAGED_POLICIES:
            return AWS_MANAGED_POLICIES[policy_arn[len(aws_prefix) :]]
        raise KeyError(f"{stack.stack_name}: the managed policy {policy_arn} is not known to the evaluator")

    def _add(self, patterns: Sequence[str], name: str, document: Document) -> None:
        for pattern in patterns:
            self.resource_policies.append((pattern, name, document))

    def _read_resource_policies(self) -> None:
        t = self.templates
        for stack, logical_id, properties in t.resources("AWS::S3::BucketPolicy"):
            bucket = f"arn:{stack.partition}:s3:::{properties['Bucket']}"
            self._add(
                [bucket, f"{bucket}/*"], f"{stack.stack_name}/{logical_id}", properties["PolicyDocument"]
            )
        for stack, logical_id, properties in t.resources("AWS::KMS::Key"):
            arn = t.get_att(logical_id, "Arn", stack)
            self._add([arn], f"{stack.stack_name}/{logical_id}", properties["KeyPolicy"])
        for stack, _, properties in t.resources("AWS::KMS::Alias"):
            key_id = properties["TargetKeyId"]
            key_arn = key_id if key_id.startswith("arn:") else self._key_arn_by_id(stack, key_id)
            self.key_aliases[(stack.account, properties["AliasName"])] = key_arn
        for stack, logical_id, properties in t.resources("AWS::ECR::Repository"):
            if "RepositoryPolicyText" in properties:
                arn = t.get_att(logical_id, "Arn", stack)
                self._add([arn], f"{stack.stack_name}/{logical_id}", properties["RepositoryPolicyText"])
        for stack, logical_id, properties in t.resources("AWS::SageMaker::ModelPackageGroup"):
            if "ModelPackageGroupPolicy" not in properties:
                continue
            group = properties["ModelPackageGroupName"]
            prefix = f"arn:{stack.partition}:sagemaker:{stack.region}:{stack.account}"
            self._add(
                [f"{prefix}:model-package-group/{group}", f"{prefix}:model-package/{group.lower()}/*"],
                f"{stack.stack_name}/{logical_id}",
                properties["ModelPackageGroupPolicy"],
            )
        for stack, logical_id, properties in t.resources("AWS::Events::EventBusPolicy"):
            bus = properties.get("EventBusName", "default")
            arn = f"arn:{stack.partition}:events:{stack.region}:{stack.account}:event-bus/{bus}"
            self._add([arn], f"{stack.stack_name}/{logical_id}", _bus_document(properties))
        for stack, logical_id, properties in t.resources("AWS::SNS::TopicPolicy"):
            self._add(properties["Topics"], f"{stack.stack_name}/{logical_id}", properties["PolicyDocument"])
        for stack, logical_id, properties in t.resources("AWS::SQS::QueuePolicy"):
            queues = [
                f"arn:{stack.partition}:sqs:{stack.region}:{stack.account}:{url.rsplit('/', 1)[-1]}"
                for url in properties["Queues"]
            ]
            self._add(queues, f"{stack.stack_name}/{logical_id}", properties["PolicyDocument"])
        for role in self.roles.values():
            self._add([role.arn], f"{role.path} (trust)", role.trust_policy)

    def _key_arn_by_id(self, stack: StackTemplate, key_id: str) -> str:
        return f"arn:{stack.partition}:kms:{stack.region}:{stack.account}:key/{key_id}"


def _bus_document(properties: Mapping[str, Any]) -> Document:
    """An event-bus policy is written as one statement (or the deprecated Principal/Action fields)."""
    if "Statement" in properties:
        statement = dict(properties["Statement"])
    else:
        statement = {
            "Effect": "Allow",
            "Principal": {"AWS": properties["Principal"]},
            "Action": properties["Action"],
            "Resource": "*",
        }
        if "Condition" in properties:
            statement["Condition"] = {properties["Condition"]["Type"]: properties["Condition"]}
    statement.setdefault("Sid", properties.get("StatementId"))
    return {"Version": "2012-10-17", "Statement": [statement]}
