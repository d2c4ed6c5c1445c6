"""Values AWS would refuse are reported at load time with their file and field: checked in the form they
reach AWS, against the constraints botocore's SageMaker model and cfn-lint's schemas publish."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from platform_config import naming
from platform_config.aws_constraints import (
    TARGETS,
    availability_zones,
    constraint,
    instance_types,
    value_problem,
)
from platform_config.aws_values import AWS_REGIONS
from platform_config.spec_checks import CONSTRUCT_TAGS_PER_RESOURCE
from tests.config.conftest import EditConfig, check_problem, problems_of
from tests.conftest import SynthesizedApp

Data = dict[str, Any]


def _studio_image_index(data: Data) -> int:
    return next(i for i, repo in enumerate(data["images"]["repositories"]) if "studio_image" in repo)


def _set_studio_image_repository_name(name: str) -> Callable[[Data], None]:
    def change(data: Data) -> None:
        index = _studio_image_index(data)
        old = data["images"]["repositories"][index]["name"]
        data["images"]["repositories"][index]["name"] = name
        for domain in data["studio"]["domains"]:  # the domains offer it by name
            domain["custom_images"] = [
                name if image == old else image for image in domain.get("custom_images", [])
            ]

    return change


def _register_into_long_groups(count: int) -> Callable[[Data], None]:
    """`count` more groups of 63 mixed-case characters, each with a copy of the first pipeline."""

    def change(data: Data) -> None:
        first = data["pipelines"][0]
        for index in range(count):
            group = f"Group{index}".ljust(63, "x")
            data["model_registry"]["groups"].append({"name": group, "description": "A long name."})
            copy = {key: value for key, value in first.items() if key != "trigger"}
            data["pipelines"].append({**copy, "name": f"long-{index}", "model_package_group": group})

    return change


def _first_persona(data: Data) -> str:
    return str(next(iter(data["studio"]["personas"])))


def _with_job_instance_types(count: int) -> Callable[[Data], None]:
    """The first persona, with the jobs capability, names `count` job instance types (its own first)."""

    def change(data: Data) -> None:
        persona = data["studio"]["personas"][_first_persona(data)]
        persona["capabilities"] = sorted({*persona.get("capabilities", []), "jobs"})
        own = persona.get("job_instance_types", [])
        offered = sorted(instance_types("TrainingInstanceType") & instance_types("ProcessingInstanceType"))
        persona["job_instance_types"] = own + [t for t in offered if t not in own][: count - len(own)]

    return change


CASES: list[tuple[str, str, Callable[[Data], None], Callable[[Data], str], tuple[str, ...]]] = [
    (
        "control character in a description",
        "dev",
        lambda data: data["model_registry"]["groups"][0].update(description="Churn\x07 model"),
        lambda data: "model_registry.groups[0].description",
        ("does not match the pattern AWS requires", "0x0007", "CreateModelPackageGroup"),
    ),
    (
        "a persona description outside IAM's character set",
        "dev",
        lambda data: data["studio"]["personas"][_first_persona(data)].update(
            description="Builds — and ships"
        ),
        lambda data: f"studio.personas.{_first_persona(data)}.description",
        ("the persona role's description", "AWS::IAM::Role.Description"),
    ),
    (
        "an availability zone letter the region does not have",
        "dev",
        lambda data: data["network"]["new_vpc"]["availability_zones"].__setitem__(0, f"{data['region']}q"),
        lambda data: "network.new_vpc.availability_zones[0]",
        ("is not an availability zone of", "use one of"),
    ),
    (
        "a job instance type SageMaker does not offer",
        "dev",
        lambda data: data["studio"]["personas"][_first_persona(data)]["job_instance_types"].__setitem__(
            0, "ml.m5.huge"
        ),
        lambda data: f"studio.personas.{_first_persona(data)}.job_instance_types[0]",
        ("'ml.m5.huge' is not an instance type SageMaker offers", "ml.m5 offers"),
    ),
    (
        "an endpoint instance type SageMaker does not offer",
        "staging",
        lambda data: data["serving"]["endpoints"][0]["instances"].update(instance_type="ml.t9.large"),
        lambda data: "serving.endpoints[0].instances.instance_type",
        ("'ml.t9.large' is not an instance type SageMaker offers for endpoints",),
    ),
    (
        "a notebook job instance type SageMaker does not offer",
        "dev",
        lambda data: data["notebook_jobs"][0].update(instance_type="ml.m5.huge"),
        lambda data: "notebook_jobs[0].instance_type",
        ("'ml.m5.huge' is not an instance type SageMaker offers for notebook jobs",),
    ),
    (
        "more model package groups than the pipeline role's policy can name",
        "dev",
        _register_into_long_groups(6),
        lambda data: "pipelines",
        ("register into 7 model package groups", "IAM takes 6,144 per managed policy", "fewer groups"),
    ),
    (
        "a smoke test content type outside ASCII",
        "staging",
        lambda data: data["serving"]["endpoints"][0]["smoke_tests"][0].update(content_type="text/csv; ü"),
        lambda data: "serving.endpoints[0].smoke_tests[0].content_type",
        ("does not match the pattern AWS requires", "InvokeEndpoint.ContentType"),
    ),
    (
        "a monitoring baseline URI longer than Model Monitor takes",
        "staging",
        lambda data: (
            data["serving"]["endpoints"][0]
            .setdefault("monitoring", {})
            .update(
                baseline={
                    "constraints_uri": "s3://baselines/" + "c" * 1020 + ".json",
                    "statistics_uri": "s3://baselines/statistics.json",
                }
            )
        ),
        lambda data: "serving.endpoints[0].monitoring.baseline.constraints_uri",
        ("characters long, and AWS takes at most 1024", "DataQualityBaselineConfig.ConstraintsResource"),
    ),
    (
        "more job instance types than a persona's job policy can name",
        "dev",
        _with_job_instance_types(150),
        lambda data: f"studio.personas.{_first_persona(data)}.job_instance_types",
        ("150 instance types would make the persona's job policy up to", "IAM takes 6,144", "list fewer"),
    ),
    (
        "a five-field cron",
        "dev",
        lambda data: data["pipelines"][0].update(
            trigger={"schedule": "cron(0 6 * * *)"}, cache_expire_after=None
        ),
        lambda data: "pipelines[0].trigger.schedule",
        ("has 5 fields", "EventBridge's cron has six"),
    ),
    (
        "a cron without a question mark",
        "dev",
        lambda data: data["pipelines"][0].update(
            trigger={"schedule": "cron(0 6 * * * *)"}, cache_expire_after=None
        ),
        lambda data: "pipelines[0].trigger.schedule",
        ("has no '?' in day-of-month or day-of-week, and EventBridge needs one",),
    ),
    (
        "a name valid for ECR but not for a SageMaker image",
        "dev",
        _set_studio_image_repository_name("data_science"),
        lambda data: f"images.repositories[{_studio_image_index(data)}].name",
        ("the SageMaker image name 'data_science'", "CreateImage.ImageName"),
    ),
    (
        "a derived name over its limit",
        "dev",
        _set_studio_image_repository_name("a" * 60),
        lambda data: f"images.repositories[{_studio_image_index(data)}].name",
        ("the app image config name", "AWS takes at most 63"),
    ),
    (
        "a blank image display name",
        "dev",
        lambda data: data["images"]["repositories"][_studio_image_index(data)]["studio_image"].update(
            display_name="   "
        ),
        lambda data: f"images.repositories[{_studio_image_index(data)}].studio_image.display_name",
        ("does not match the pattern AWS requires",),
    ),
    (
        "a tag value with a character AWS refuses",
        "dev",
        lambda data: data.setdefault("tags", {}).update({"team": "ml&ops"}),
        lambda data: "tags.team",
        ("the value 'ml&ops' does not match the pattern AWS requires",),
    ),
    (
        "more tags than a resource takes",
        "dev",
        lambda data: data.update(tags={f"k{i}": "v" for i in range(50)}),
        lambda data: "tags",
        ("50 tags, and the platform adds", "at most 50 per resource"),
    ),
]


Case = tuple[str, str, Callable[[Data], None], Callable[[Data], str], tuple[str, ...]]


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_values_aws_would_refuse_name_their_file_and_field(config_copy: EditConfig, case: Case) -> None:
    _, environment, change, field, words = case
    fields: list[str] = []

    def edit(data: Data) -> None:
        change(data)
        fields.append(field(data))

    config_dir = config_copy(environment, edit)
    # One mistake may break several derived values (an image name and its app image config name).
    problems = [problem for problem in problems_of(config_dir) if f".yaml: {fields[0]}: " in problem]
    assert problems, "\n".join(problems_of(config_dir))
    check_problem(problems[0], config_dir, f"{environment}.yaml", fields[0], *words)


def test_the_sample_passes_every_check(sample_platform: Any) -> None:
    assert sample_platform.environments  # load_platform ran spec_problems on every file


def test_the_constraints_are_read_from_the_specifications() -> None:
    """Spot checks of values the generator copied from botocore and cfn-lint (not written here)."""
    assert constraint("domain name").max_length == 63
    assert constraint("tags per resource").max_length == 50
    assert "ml.m5.xlarge" in instance_types("TrainingInstanceType")
    assert "ml.m5.huge" not in instance_types("TrainingInstanceType")
    assert availability_zones("eu-west-1") == ("eu-west-1a", "eu-west-1b", "eu-west-1c")
    assert value_problem("churn-model", "model package group name") is None
    assert value_problem("churn_model", "model package group name") is not None
    assert set(TARGETS) >= {"domain name", "bucket name", "role description"}


def test_derived_bucket_names_fit_for_the_longest_environment_name_in_every_region() -> None:
    """What naming promises: an environment named with 20 characters gets valid buckets in any region."""
    for region in AWS_REGIONS:
        environment = SimpleNamespace(name="d" * 20, account_id="123456789012", region=region)
        for derive in (naming.artifact_bucket_name, naming.data_bucket_name, naming.capture_bucket_name):
            bucket = derive(environment)  # type: ignore[arg-type]
            assert value_problem(bucket, "bucket name") is None, (region, bucket)


def test_the_tags_the_platform_adds_are_what_the_check_counts(
    synthesized: SynthesizedApp, sample_platform: Any
) -> None:
    """On every resource of the sample's templates: at most the Stage's tags plus the constructs' own."""
    most = 0
    for artifact in synthesized.assembly.stacks_recursively:
        environment = sample_platform.environments[artifact.hierarchical_id.split("/")[0]]
        budget = len(naming.platform_tags(environment)) + CONSTRUCT_TAGS_PER_RESOURCE
        for logical_id, resource in artifact.template.get("Resources", {}).items():
            tags = resource.get("Properties", {}).get("Tags")
            if isinstance(tags, list):
                assert len(tags) <= budget, f"{artifact.hierarchical_id}/{logical_id}: {len(tags)} tags"
                most = max(most, len(tags) - len(naming.platform_tags(environment)))
    assert most == CONSTRUCT_TAGS_PER_RESOURCE, "the constructs' own tags changed: update the budget"
