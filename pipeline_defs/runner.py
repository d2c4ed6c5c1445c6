"""Run a rendered pipeline definition on this machine, step by step, as SageMaker would run the deployed one.

The input is the definition JSON itself (the body the pipeline stack deploys, with its parameters, property
references, conditions and placeholders), not the Python step objects, so what is tested is what deploys.
Storage is a directory that stands in for S3 (`<work dir>/s3/<bucket>/<key>`, kept across runs); every job
gets a temporary tree in place of its container's `/opt/ml/...` paths.

What each step type does here:
- Processing: the step script, in a subprocess of this interpreter. `ContainerEntrypoint` and
  `ContainerArguments` are resolved from the body; paths under /opt/ml/processing are rewritten to the job's
  tree and `--root <job tree>` is appended (the step scripts' base-path option). The script is the one the
  body names: `s3://<code bucket>/<key>` maps back to `pipeline_defs/steps/` by file name or content hash.
- Training with SageMaker's built-in XGBoost image: a declared stand-in with the `xgboost` package and the
  rendered hyperparameters, writing `model.tar.gz` with the file `xgboost-model`, as the algorithm does.
- QualityCheck (data quality): a declared stand-in writing small statistics/constraints files (column
  count, completeness, numeric range); Model Monitor's analyzer does not run here.
- Condition: evaluated on parameters and property files (`Std:JsonGet`); only the branch taken runs.
- Fail: the execution stops, failed, with the step's message.
- RegisterModel, Model (CreateModel), Transform: the request they would send is recorded in the report,
  after a check of its strings against the API's input shape in botocore's service model (lengths, and the
  patterns where a value holds no placeholder): CreateModelPackage refuses, for example, an empty metadata
  value. A Transform of built-in XGBoost on text/csv lines is also scored here (input/output filters `$`,
  `$[a:b]`, `$[i,j]`; join with the input) when a Model step of this run created its model or the run was
  given the model's archive (`existing_models`, for a DAG that names a deployed model); otherwise the
  report says why it was not.
Any other step type, or a training image without a stand-in, is an error naming the step and its type.

Cache (what `would_hit_cache` means): a step with `CacheConfig.Enabled` would be served from SageMaker's
cache when an earlier successful run recorded in the same work directory had the same cache key, within
`ExpireAfter` (not checked here: the index keeps no times). The key is SageMaker's: the step type's key
attributes (`CACHE_KEY_ATTRIBUTES`, from "Default cache key attributes by pipeline step type"), resolved.
A reference to an earlier step resolves as SageMaker's would: to the cached job's value where that step
would hit, else to this execution's, whose output paths hold this execution's id; so a step whose input
changed misses, and so does everything downstream of it. As in SageMaker, the key is arguments, not data:
a new file at the same key hits unless its version is among the arguments (the DAGs pass the S3 version
id and ETag, see `pipeline_defs.input_data`). Each run is a new execution with its own id.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import operator
import os
import re
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pipeline_defs.context import (
    PLACEHOLDER_BUCKET,
    PLACEHOLDER_CODE_BUCKET,
    PLACEHOLDER_DATA_BUCKET,
    PLACEHOLDER_KMS_KEY_ARN,
    PLACEHOLDER_MODEL_PACKAGE_GROUP,
    PLACEHOLDER_ROLE_ARN,
    PLACEHOLDER_SECURITY_GROUP_ID,
    RenderContext,
    placeholder_subnet_id,
)
from pipeline_defs.definitions import STEPS_DIR, definition, render, script_paths
from pipeline_defs.graph import pipeline_graph

PROCESSING_ROOT: Final = "/opt/ml/processing"
REGION: Final = "eu-west-1"
ACCOUNT: Final = "000000000000"
# Where the archives of `existing_models` are put, as if the deployment had uploaded them.
EXISTING_MODELS_BUCKET: Final = "__EXISTING_MODELS__"
# SageMaker's cache key attributes per step type (for QualityCheck, the step's own fields and the
# processing job's key attributes); steps of other types are never cached.
CACHE_KEY_ATTRIBUTES: Final = {
    "Processing": ("AppSpecification", "Environment", "ProcessingInputs"),
    "Training": (
        "AlgorithmSpecification",
        "CheckpointConfig",
        "DebugHookConfig",
        "DebugRuleConfigurations",
        "Environment",
        "HyperParameters",
        "InputDataConfig",
    ),
    "Transform": ("DataProcessing", "Environment", "ModelName", "TransformInput"),
    "QualityCheck": ("AppSpecification", "Environment", "ProcessingInputs"),
}
QUALITY_CHECK_KEY_FIELDS: Final = (
    "CheckType",
    "SkipCheck",
    "RegisterNewBaseline",
    "ModelPackageGroupName",
    "SuppliedBaselineStatistics",
    "SuppliedBaselineConstraints",
)
# The SageMaker API operation whose input shape a recorded request must fit.
REQUEST_OPERATIONS: Final = {
    "RegisterModel": "CreateModelPackage",
    "Model": "CreateModel",
    "Transform": "CreateTransformJob",
}
# A value with one of these is a placeholder for a CDK token: its pattern is checked after the splice.
PLACEHOLDER_MARK: Final = "__"
REPORT_FILE: Final = "run-report.json"
CACHE_INDEX_FILE: Final = "cache-index.json"
XGBOOST_IMAGE_MARKER: Final = "sagemaker-xgboost"
XGBOOST_MODEL_FILE: Final = "xgboost-model"
MODEL_ARCHIVE: Final = "model.tar.gz"
# Hyperparameters of the built-in algorithm that are not booster parameters.
XGBOOST_ROUND_KEYS: Final = ("num_round", "early_stopping_rounds")
LOG_TAIL_LINES: Final = 20

Json = Any  # a value of the definition JSON: dict, list, str, int, float, bool or None


class RunError(Exception):
    """The run could not proceed: a bad parameter, an unsupported step, a reference that does not resolve."""


@dataclass
class StepResult:
    name: str
    step_type: str
    status: str  # Succeeded, Failed, NotRun (branch not taken or an upstream step failed)
    seconds: float = 0.0
    outputs: dict[str, Any] = field(default_factory=dict)
    request: dict[str, Any] | None = None
    message: str = ""
    cache_key: str | None = None
    would_hit_cache: bool = False


@dataclass
class RunReport:
    pipeline: str
    status: str  # Succeeded or Failed
    parameters: dict[str, Any]
    steps: list[StepResult]
    failure: str = ""
    execution_id: str = ""
    seconds: float = 0.0
    work_dir: str = ""

    def step(self, name: str) -> StepResult:
        for result in self.steps:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def summary(self) -> list[str]:
        lines = [
            f"pipeline {self.pipeline}: {self.status} in {self.seconds:.1f} s "
            f"(execution {self.execution_id}, work dir {self.work_dir})"
        ]
        for result in self.steps:
            cache = " (would hit cache)" if result.would_hit_cache else ""
            lines.append(
                f"  {result.name} [{result.step_type}]: {result.status} {result.seconds:.1f} s{cache}"
            )
            if result.message:
                lines.extend(f"    {line}" for line in result.message.splitlines()[-LOG_TAIL_LINES:])
        if self.failure:
            lines.append(f"failed: {self.failure}")
        return lines


def placeholder_code_uris(name: str) -> dict[str, str]:
    """Code URIs as the pipeline stack renders them: the code bucket placeholder, the key the asset's hash."""
    return {
        script: f"s3://{PLACEHOLDER_CODE_BUCKET}/{_sha256(path)}{path.suffix}"
        for script, path in script_paths(name).items()
    }


def render_for_run(name: str) -> str:
    """DAG `name` rendered as the pipeline stack renders it: placeholders where CDK tokens go, including a
    KMS key and a VPC (the stack always sets both; here they only show in the recorded requests)."""
    context = RenderContext(
        region=REGION,
        role_arn=PLACEHOLDER_ROLE_ARN,
        bucket=PLACEHOLDER_BUCKET,
        data_bucket=PLACEHOLDER_DATA_BUCKET,
        code_uris=placeholder_code_uris(name),
        model_package_group=PLACEHOLDER_MODEL_PACKAGE_GROUP if name == "model_build" else None,
        cache_expire_after="P30D",
        kms_key_id=PLACEHOLDER_KMS_KEY_ARN,
        subnet_ids=(placeholder_subnet_id(0), placeholder_subnet_id(1)),
        security_group_ids=(PLACEHOLDER_SECURITY_GROUP_ID,),
    )
    return render(name, context, pipeline_name=definition(name).default_pipeline_name)


def parse_parameter_assignments(assignments: Sequence[str], option: str = "--param") -> dict[str, str]:
    values: dict[str, str] = {}
    for assignment in assignments:
        name, separator, value = assignment.partition("=")
        if not separator or not name:
            raise RunError(f"{option} {assignment!r} is not NAME=VALUE")
        values[name] = value
    return values


def run_definition(
    body: str,
    *,
    input_path: Path,
    work_dir: Path,
    parameters: Mapping[str, str] | None = None,
    pipeline: str = "pipeline",
    existing_models: Mapping[str, Path] | None = None,
) -> RunReport:
    """Run definition `body` on `input_path` (a file or folder, put at s3://InputDataBucket/InputDataKey).

    `existing_models` maps the names of SageMaker models the DAG expects to exist (a ModelName parameter)
    to their built-in XGBoost `model.tar.gz`, so a Transform of them is scored here.
    Raises RunError before any step runs for a bad parameter or an unsupported step type; a step that fails
    ends the run, recorded in the report (status Failed) rather than raised.
    """
    document = json.loads(body)
    runner = _Runner(document, work_dir=work_dir, pipeline=pipeline)
    return runner.run(
        input_path=input_path, overrides=dict(parameters or {}), existing_models=dict(existing_models or {})
    )


# --- the run ------------------------------------------------------------------------------------------

SUPPORTED_TYPES: Final = frozenset(
    {"Processing", "Training", "QualityCheck", "Condition", "Fail", "RegisterModel", "Model", "Transform"}
)


class _Runner:
    def __init__(self, document: dict[str, Any], *, work_dir: Path, pipeline: str) -> None:
        self.document = document
        self.graph = pipeline_graph(json.dumps(document))
        self.bodies = _steps_by_name(document["Steps"])
        self.work_dir = work_dir.resolve()
        self.s3_root = self.work_dir / "s3"
        self.pipeline = pipeline
        self.parameters: dict[str, Any] = {}
        self.properties: dict[str, dict[str, Any]] = {}
        self.property_files: dict[str, dict[str, Any]] = {}
        self.cache_index = self._load_cache_index()
        # Each run is a new execution: SageMaker's ids are 12 lowercase letters and digits.
        self.execution_id = secrets.token_hex(6)
        # Per step, the properties a cache key sees: the cached job's where the step would hit.
        self.cache_view: dict[str, dict[str, Any]] = {}
        # Models a Transform may score: model name -> CreateModel request (Model steps, existing models).
        self.models: dict[str, dict[str, Any]] = {}

    # Parameters -------------------------------------------------------------------------------------------
    def _resolve_parameters(self, overrides: dict[str, str]) -> dict[str, Any]:
        declared = {parameter["Name"]: parameter for parameter in self.document.get("Parameters", [])}
        unknown = sorted(set(overrides) - set(declared))
        if unknown:
            raise RunError(f"unknown parameter(s) {unknown}; the definition declares {sorted(declared)}")
        values: dict[str, Any] = {}
        for name, parameter in declared.items():
            if name in overrides:
                values[name] = _typed(name, parameter.get("Type", "String"), overrides[name])
            elif "DefaultValue" in parameter:
                values[name] = parameter["DefaultValue"]
            else:
                raise RunError(f"parameter {name} has no default: give it with --param {name}=VALUE")
            allowed = parameter.get("EnumValues")
            if allowed and values[name] not in allowed:
                raise RunError(f"parameter {name}={values[name]!r} is not one of {allowed}")
        return values

    # The run ----------------------------------------------------------------------------------------------
    def run(
        self, *, input_path: Path, overrides: dict[str, str], existing_models: dict[str, Path]
    ) -> RunReport:
        started = time.perf_counter()
        unsupported = [
            f"{name} ({step_type})"
            for name, step_type in self.graph.steps.items()
            if step_type not in SUPPORTED_TYPES
        ]
        if unsupported:
            raise RunError(
                f"the local runner does not support step(s) {', '.join(unsupported)}; "
                f"supported types: {', '.join(sorted(SUPPORTED_TYPES))}"
            )
        self._preflight()
        self.parameters = self._resolve_parameters(overrides)
        # The stand-in S3 persists across runs, as S3 does: a cache hit names an earlier execution's
        # outputs, and every execution writes under its own id.
        shutil.rmtree(self.work_dir / "jobs", ignore_errors=True)
        self.s3_root.mkdir(parents=True, exist_ok=True)
        self._upload_input(input_path)
        for model_name, archive in sorted(existing_models.items()):
            if not archive.is_file():
                raise RunError(f"existing model {model_name}: {archive} is not a file")
            uri = f"s3://{EXISTING_MODELS_BUCKET}/{model_name}/{MODEL_ARCHIVE}"
            self._local(uri).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archive, self._local(uri))
            self.models[model_name] = {
                "PrimaryContainer": {"Image": XGBOOST_IMAGE_MARKER, "ModelDataUrl": uri},
                "ExistingModel": str(archive),
            }

        results: dict[str, StepResult] = {}
        taken: set[str] = set()  # branch steps whose condition chose them
        branch_members = {step for ifs, elses in self.graph.branches.values() for step in (*ifs, *elses)}
        failure = ""
        for name in self._order():
            step_type = self.graph.steps[name]
            upstream = sorted(source for source, target in self.graph.edges if target == name)
            blocked = [source for source in upstream if results[source].status != "Succeeded"]
            if failure or blocked or (name in branch_members and name not in taken):
                reason = (
                    "the execution failed before this step"
                    if failure
                    else "its condition chose the other branch"
                    if name in branch_members and name not in taken
                    else f"upstream step(s) not run or failed: {', '.join(blocked)}"
                )
                results[name] = StepResult(name, step_type, "NotRun", message=reason)
                continue
            result = self._run_step(name, step_type, self.bodies[name])
            results[name] = result
            if result.status == "Succeeded" and step_type == "Condition":
                taken.update(result.outputs["branch_steps"])
            if result.status != "Succeeded":
                # A script's last line is its error (a traceback ends with the exception).
                last_line = (result.message.strip().splitlines() or ["(no output)"])[-1]
                failure = (
                    f"step {name} (Fail): {result.message}"
                    if step_type == "Fail"
                    else f"step {name} ({step_type}) failed: {last_line}"
                )
        report = RunReport(
            pipeline=self.pipeline,
            status="Failed" if failure else "Succeeded",
            parameters=self.parameters,
            steps=list(results.values()),  # in the order they ran (or were passed over)
            failure=failure,
            seconds=time.perf_counter() - started,
            work_dir=str(self.work_dir),
            execution_id=self.execution_id,
        )
        self._save_cache_index(report)
        (self.work_dir / REPORT_FILE).write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
        return report

    def _preflight(self) -> None:
        """Refuse, before anything runs, the steps of a supported type that have no local stand-in."""
        problems: list[str] = []
        for name, step_type in self.graph.steps.items():
            arguments = self.bodies[name].get("Arguments", {})
            if step_type == "Training":
                image = arguments.get("AlgorithmSpecification", {}).get("TrainingImage")
                if not (isinstance(image, str) and XGBOOST_IMAGE_MARKER in image):
                    problems.append(
                        f"step {name} (Training): no local stand-in for the training image {image!r} "
                        "(only SageMaker's built-in XGBoost)"
                    )
            elif step_type == "Processing":
                entrypoint = arguments.get("AppSpecification", {}).get("ContainerEntrypoint") or [None]
                if not (isinstance(entrypoint[0], str) and Path(entrypoint[0]).name in ("python", "python3")):
                    problems.append(
                        f"step {name} (Processing): entrypoint {entrypoint} does not run a python3 script"
                    )
            elif step_type == "QualityCheck" and self.bodies[name].get("CheckType") != "DATA_QUALITY":
                problems.append(
                    f"step {name} (QualityCheck): no local stand-in for {self.bodies[name].get('CheckType')}"
                )
        if problems:
            raise RunError("; ".join(problems))

    def _order(self) -> list[str]:
        """Dependency order (data, DependsOn and branch edges), ties broken by definition order."""
        names = list(self.graph.steps)
        incoming = {name: {s for s, t in self.graph.edges if t == name} for name in names}
        ordered: list[str] = []
        while len(ordered) < len(names):
            ready = [name for name in names if name not in ordered and incoming[name] <= set(ordered)]
            if not ready:
                raise RunError(f"the step graph has a cycle among {sorted(set(names) - set(ordered))}")
            ordered.append(ready[0])
        return ordered

    def _run_step(self, name: str, step_type: str, body: dict[str, Any]) -> StepResult:
        started = time.perf_counter()
        result = StepResult(name, step_type, "Succeeded")
        try:
            arguments = self._resolve(_without_branches(body).get("Arguments", {}), for_cache=False)
            cached: dict[str, Any] | None = None
            if body.get("CacheConfig", {}).get("Enabled") and step_type in CACHE_KEY_ATTRIBUTES:
                result.cache_key = self._cache_key(body)
                cached = self.cache_index.get(name, {}).get(result.cache_key)
                result.would_hit_cache = cached is not None
            operation = REQUEST_OPERATIONS.get(step_type)
            if operation is not None:
                problems = request_shape_problems(operation, arguments)
                if problems:
                    raise _StepFailedError(
                        f"SageMaker would refuse the {operation} request: {'; '.join(problems)}"
                    )
            handler = getattr(self, f"_step_{step_type.lower()}")
            handler(name, body, arguments, result)
            self.cache_view[name] = cached if cached is not None else self.properties.get(name, {})
        except _StepFailedError as failed:
            result.status = "Failed"
            result.message = str(failed)
        result.seconds = time.perf_counter() - started
        return result

    # Resolution of expressions --------------------------------------------------------------------------
    def _resolve(self, node: Json, *, for_cache: bool) -> Json:
        if isinstance(node, list):
            return [self._resolve(item, for_cache=for_cache) for item in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Get"}:
            return self._get(str(node["Get"]), for_cache=for_cache)
        if set(node) == {"Std:Join"}:
            join = node["Std:Join"]
            values = [self._resolve(value, for_cache=for_cache) for value in join["Values"]]
            return str(join["On"]).join(_as_text(value) for value in values)
        if set(node) == {"Std:JsonGet"}:
            return self._json_get(node["Std:JsonGet"], for_cache=for_cache)
        return {key: self._resolve(value, for_cache=for_cache) for key, value in node.items()}

    def _get(self, reference: str, *, for_cache: bool) -> Json:
        kind, _, path = reference.partition(".")
        if kind == "Parameters":
            if path not in self.parameters:
                raise RunError(f"reference {reference!r}: no such parameter")
            return self.parameters[path]
        if kind == "Execution":
            execution_id = self.execution_id
            return {
                "PipelineExecutionId": execution_id,
                "PipelineName": self.pipeline,
                "PipelineExecutionArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{self.pipeline}"
                f"/execution/{execution_id}",
                "PipelineArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:pipeline/{self.pipeline}",
            }.get(path, f"<{path}>")
        if kind == "Steps":
            step = re.split(r"[.\[]", path, maxsplit=1)[0]
            attribute = path[len(step) :].lstrip(".")
            properties = (self.cache_view if for_cache else self.properties).get(step)
            if properties is None or attribute not in properties:
                raise _StepFailedError(
                    f"reference {reference!r} does not resolve (step {step} has not produced it)"
                )
            return properties[attribute]
        raise RunError(f"reference {reference!r}: unknown kind {kind!r}")

    def _json_get(self, spec: dict[str, Any], *, for_cache: bool) -> Json:
        reference = (
            spec["PropertyFile"]["Get"] if isinstance(spec["PropertyFile"], dict) else spec["PropertyFile"]
        )
        match = re.fullmatch(r"Steps\.([^.]+)\.PropertyFiles\.(.+)", str(reference))
        if match is None:
            raise RunError(f"Std:JsonGet of {reference!r}: not a property file reference")
        step, file_name = match.groups()
        document = self.property_files.get(step, {}).get(file_name)
        if document is None:
            raise _StepFailedError(f"property file {file_name} of step {step} is not available")
        value: Json = document
        for part in re.findall(r"[^.\[\]]+|\[\d+\]", str(spec["Path"])):
            if part.startswith("["):
                value = value[int(part[1:-1])] if isinstance(value, list) else None
            else:
                value = value.get(part) if isinstance(value, dict) else None
            if value is None:
                raise _StepFailedError(
                    f"property file {file_name} of step {step} has nothing at {spec['Path']!r}"
                )
        return value

    def _cache_key(self, body: dict[str, Any]) -> str:
        step_type = body["Type"]
        arguments = body.get("Arguments", {})
        attributes = {
            attribute: self._resolve(arguments[attribute], for_cache=True)
            for attribute in CACHE_KEY_ATTRIBUTES[step_type]
            if attribute in arguments
        }
        if step_type == "QualityCheck":
            attributes |= {
                field: self._resolve(body[field], for_cache=True)
                for field in QUALITY_CHECK_KEY_FIELDS
                if field in body
            }
        canonical = json.dumps({"Type": step_type, "Key": attributes}, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def _load_cache_index(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Step name -> cache key -> the properties of the job that had that key."""
        try:
            loaded = json.loads((self.work_dir / CACHE_INDEX_FILE).read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(loaded, dict):
            return {}
        return {name: keys for name, keys in loaded.items() if isinstance(keys, dict)}

    def _save_cache_index(self, report: RunReport) -> None:
        index = {name: dict(keys) for name, keys in self.cache_index.items()}
        for result in report.steps:
            if (
                result.status == "Succeeded"
                and result.cache_key
                and result.cache_key not in index.get(result.name, {})
            ):
                index.setdefault(result.name, {})[result.cache_key] = self.properties.get(result.name, {})
        self.work_dir.mkdir(parents=True, exist_ok=True)
        (self.work_dir / CACHE_INDEX_FILE).write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")

    # Storage ------------------------------------------------------------------------------------------------
    def _local(self, uri: str) -> Path:
        match = re.fullmatch(r"s3://([^/]+)/?(.*)", uri)
        if match is None:
            raise _StepFailedError(f"{uri!r} is not an s3:// URI")
        bucket, key = match.groups()
        return self.s3_root / bucket / key

    def _upload_input(self, input_path: Path) -> None:
        if not input_path.exists():
            raise RunError(f"--input {input_path} does not exist")
        bucket, key = self.parameters.get("InputDataBucket"), self.parameters.get("InputDataKey")
        if not isinstance(bucket, str) or not isinstance(key, str):
            raise RunError("the definition has no InputDataBucket/InputDataKey parameters to put --input at")
        target = self.s3_root / bucket / key
        target.parent.mkdir(parents=True, exist_ok=True)
        if input_path.is_dir():
            shutil.copytree(input_path, target)
        else:
            shutil.copyfile(input_path, target)

    def _download(self, uri: str, destination: Path) -> None:
        source = self._local(uri)
        destination.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, destination, dirs_exist_ok=True)
        elif source.is_file():
            shutil.copyfile(source, destination / source.name)
        else:
            raise _StepFailedError(f"no object at {uri}")

    def _upload_dir(self, source: Path, uri: str) -> None:
        target = self._local(uri)
        target.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)

    def _code_file(self, uri: str) -> Path:
        """The local step script that a code URI refers to, by file name or by content hash."""
        key_name = uri.rsplit("/", 1)[-1]
        by_hash = {f"{_sha256(path)}{path.suffix}": path for path in STEPS_DIR.glob("*.py")}
        if key_name in by_hash:
            return by_hash[key_name]
        if (STEPS_DIR / key_name).is_file():
            return STEPS_DIR / key_name
        raise _StepFailedError(
            f"code {uri} matches no script in {STEPS_DIR} (by name or content hash): "
            "render the body from this checkout"
        )

    # Step types ---------------------------------------------------------------------------------------------
    def _step_processing(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        job_root = self.work_dir / "jobs" / name
        shutil.rmtree(job_root, ignore_errors=True)
        job_root.mkdir(parents=True)

        def local_path(path: str) -> str:
            return str(job_root) + path[len(PROCESSING_ROOT) :] if path.startswith(PROCESSING_ROOT) else path

        for processing_input in arguments.get("ProcessingInputs", []):
            s3_input = processing_input["S3Input"]
            destination = Path(local_path(s3_input["LocalPath"]))
            if processing_input.get("InputName") == "code":
                destination.mkdir(parents=True, exist_ok=True)
                code = self._code_file(s3_input["S3Uri"])
                shutil.copyfile(code, destination / s3_input["S3Uri"].rsplit("/", 1)[-1])
            else:
                self._download(s3_input["S3Uri"], destination)
        app = arguments["AppSpecification"]
        entrypoint = [str(part) for part in app.get("ContainerEntrypoint", [])]
        command = [
            sys.executable,
            *(local_path(part) for part in entrypoint[1:]),
            *(local_path(_as_text(part)) for part in app.get("ContainerArguments", [])),
            "--root",
            str(job_root),
        ]
        environment = {
            **os.environ,
            **{key: _as_text(value) for key, value in arguments.get("Environment", {}).items()},
        }
        completed = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
        log = (completed.stdout + completed.stderr).strip()
        result.request = {"command": command[1:], "arguments": app.get("ContainerArguments", [])}
        if completed.returncode != 0:
            raise _StepFailedError(f"exit code {completed.returncode}\n{log}")
        result.message = log
        properties: dict[str, Any] = {}
        for index, output in enumerate(arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])):
            s3_output = output["S3Output"]
            self._upload_dir(Path(local_path(s3_output["LocalPath"])), s3_output["S3Uri"])
            for key in (f"'{output['OutputName']}'", str(index)):
                properties[f"ProcessingOutputConfig.Outputs[{key}].S3Output.S3Uri"] = s3_output["S3Uri"]
            result.outputs[output["OutputName"]] = s3_output["S3Uri"]
        self.properties[name] = properties
        files: dict[str, Any] = {}
        for property_file in body.get("PropertyFiles", []):
            output_uri = result.outputs.get(property_file["OutputName"])
            if output_uri is None:
                raise _StepFailedError(
                    f"property file {property_file['PropertyFileName']}: "
                    f"no output {property_file['OutputName']}"
                )
            path = self._local(f"{output_uri.rstrip('/')}/{property_file['FilePath']}")
            try:
                files[property_file["PropertyFileName"]] = json.loads(path.read_text())
            except (OSError, ValueError) as error:
                raise _StepFailedError(
                    f"property file {property_file['PropertyFileName']}: {error}"
                ) from error
        self.property_files[name] = files
        result.outputs["property_files"] = files

    def _step_training(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        image = str(arguments["AlgorithmSpecification"].get("TrainingImage", ""))
        channels: dict[str, list[Path]] = {}
        for channel in arguments.get("InputDataConfig", []):
            source = self._local(channel["DataSource"]["S3DataSource"]["S3Uri"])
            files = sorted(source.rglob("*")) if source.is_dir() else [source]
            channels[channel["ChannelName"]] = [path for path in files if path.is_file()]
        if not channels.get("train"):
            raise _StepFailedError("no train channel data")
        hyperparameters = {
            key: _as_text(value) for key, value in arguments.get("HyperParameters", {}).items()
        }
        job_name = f"pipelines-{self.execution_id}-{name}"
        output_path = str(arguments["OutputDataConfig"]["S3OutputPath"]).rstrip("/")
        artifact_uri = f"{output_path}/{job_name}/output/{MODEL_ARCHIVE}"
        metrics = train_xgboost(channels, hyperparameters, self._local(artifact_uri))
        self.properties[name] = {"ModelArtifacts.S3ModelArtifacts": artifact_uri, "TrainingJobName": job_name}
        result.outputs = {"model_artifacts": artifact_uri, "final_metrics": metrics}
        result.request = {"stand_in": "xgboost package for the built-in XGBoost algorithm", "image": image}

    def _step_qualitycheck(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        dataset_inputs = [item for item in arguments.get("ProcessingInputs", []) if "S3Input" in item]
        outputs = arguments.get("ProcessingOutputConfig", {}).get("Outputs", [])
        if not dataset_inputs or not outputs:
            raise _StepFailedError("a QualityCheck step without a dataset input or an output")
        data_dir = self.work_dir / "jobs" / name / "dataset"
        shutil.rmtree(data_dir, ignore_errors=True)
        self._download(dataset_inputs[0]["S3Input"]["S3Uri"], data_dir)
        output_uri = str(outputs[0]["S3Output"]["S3Uri"]).rstrip("/")
        statistics, constraints = data_quality_baseline(sorted(p for p in data_dir.rglob("*") if p.is_file()))
        target = self._local(output_uri)
        target.mkdir(parents=True, exist_ok=True)
        (target / "statistics.json").write_text(json.dumps(statistics, indent=2) + "\n")
        (target / "constraints.json").write_text(json.dumps(constraints, indent=2) + "\n")
        statistics_uri, constraints_uri = f"{output_uri}/statistics.json", f"{output_uri}/constraints.json"
        self.properties[name] = {
            "CalculatedBaselineStatistics": statistics_uri,
            "CalculatedBaselineConstraints": constraints_uri,
            "BaselineUsedForDriftCheckStatistics": statistics_uri,
            "BaselineUsedForDriftCheckConstraints": constraints_uri,
        }
        result.outputs = {
            "statistics": statistics_uri,
            "constraints": constraints_uri,
            "columns": len(statistics["features"]),
        }
        result.request = {"stand_in": "column statistics; Model Monitor's analyzer does not run locally"}

    def _step_condition(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        outcome = all(_condition(condition) for condition in arguments.get("Conditions", []))
        branches = self.graph.branches[name]
        chosen = branches[0] if outcome else branches[1]
        self.properties[name] = {"Outcome": outcome}
        result.outputs = {
            "outcome": outcome,
            "branch_steps": list(chosen),
            "conditions": arguments.get("Conditions", []),
        }

    def _step_fail(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        message = _as_text(arguments.get("ErrorMessage", ""))
        result.outputs = {"error_message": message}
        raise _StepFailedError(message)

    def _step_registermodel(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        group = arguments.get("ModelPackageGroupName", "group")
        arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{group}/1"
        self.properties[name] = {"ModelPackageArn": arn}
        result.request = {"CreateModelPackage": arguments}
        result.outputs = {"model_package_arn": arn}

    def _step_model(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        model_name = f"pipelines-{self.execution_id}-{name}"
        self.properties[name] = {"ModelName": model_name}
        self.models[model_name] = arguments
        result.request = {"CreateModel": arguments}
        result.outputs = {"model_name": model_name}

    def _step_transform(
        self, name: str, body: dict[str, Any], arguments: dict[str, Any], result: StepResult
    ) -> None:
        output_path = str(arguments.get("TransformOutput", {}).get("S3OutputPath", ""))
        self.properties[name] = {"TransformOutput.S3OutputPath": output_path}
        result.request = {"CreateTransformJob": arguments}
        result.outputs = {"output_path": output_path, "ran": False}
        reason = self._transform_locally(arguments, output_path, result)
        if reason:
            result.message = f"recorded, not run here: {reason}"

    def _transform_locally(self, arguments: dict[str, Any], output_path: str, result: StepResult) -> str:
        """Score the input with a model this run created, when it is built-in XGBoost on text/csv lines.
        Returns why not, or "" when it ran."""
        model = self.models.get(str(arguments.get("ModelName")))
        if model is None:
            return f"model {arguments.get('ModelName')!r} is not one this run created or was given"
        container = model.get("PrimaryContainer", {})
        transform_input = arguments.get("TransformInput", {})
        processing = arguments.get("DataProcessing", {})
        if XGBOOST_IMAGE_MARKER not in str(container.get("Image", "")):
            return f"no local stand-in for the model image {container.get('Image')!r}"
        if transform_input.get("ContentType") != "text/csv" or transform_input.get("SplitType") != "Line":
            return "only text/csv split by line is scored locally"
        try:
            input_filter = _csv_filter(processing.get("InputFilter"))
            output_filter = _csv_filter(processing.get("OutputFilter"))
        except ValueError as error:
            return str(error)
        source = self._local(str(transform_input["DataSource"]["S3DataSource"]["S3Uri"]))
        files = sorted(path for path in source.rglob("*") if path.is_file()) if source.is_dir() else [source]
        with tempfile.TemporaryDirectory() as scratch:
            archive = self._local(str(container["ModelDataUrl"]))
            with tarfile.open(archive, "r:gz") as bundle:
                member = bundle.extractfile(XGBOOST_MODEL_FILE)
                if member is None:
                    raise _StepFailedError(f"{container['ModelDataUrl']} holds no {XGBOOST_MODEL_FILE}")
                model_file = Path(scratch) / "model.json"
                model_file.write_bytes(member.read())
            records = 0
            for path in files:
                rows = [line.split(",") for line in path.read_text().splitlines() if line.strip()]
                predictions = predict_xgboost(model_file, [input_filter(row) for row in rows])
                joined = [
                    [*row, prediction] if processing.get("JoinSource") == "Input" else [prediction]
                    for row, prediction in zip(rows, predictions, strict=True)
                ]
                target = self._local(f"{output_path.rstrip('/')}/{path.name}.out")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("".join(",".join(output_filter(row)) + "\n" for row in joined))
                records += len(rows)
        result.outputs.update({"ran": True, "records": records})
        return ""


class _StepFailedError(Exception):
    """A step failed at run time: recorded in the report, the run stops."""


# --- stand-ins ---------------------------------------------------------------------------------------------


def train_xgboost(
    channels: Mapping[str, Sequence[Path]], hyperparameters: Mapping[str, str], archive: Path
) -> dict[str, float]:
    """SageMaker's built-in XGBoost on CSV channels (label first, no header), by the `xgboost` package.

    Writes `archive` (model.tar.gz holding `xgboost-model`, the algorithm's layout); returns the last
    round's evaluation metric per channel (`validation:auc`, ...).
    """
    import numpy  # noqa: PLC0415  (dev-only dependencies, imported where the stand-in runs)
    import xgboost  # noqa: PLC0415

    def matrix(paths: Sequence[Path]) -> Any:
        rows = [line.split(",") for path in paths for line in path.read_text().splitlines() if line.strip()]
        values = numpy.array(
            [[float(v) if v.strip() else numpy.nan for v in row] for row in rows], dtype=float
        )
        return xgboost.DMatrix(values[:, 1:], label=values[:, 0], missing=numpy.nan)

    matrices = {channel: matrix(paths) for channel, paths in channels.items() if paths}
    params: dict[str, Any] = {
        key: value for key, value in hyperparameters.items() if key not in XGBOOST_ROUND_KEYS
    }
    params["nthread"] = 1
    evaluations = [(matrices[channel], channel) for channel in ("train", "validation") if channel in matrices]
    history: dict[str, dict[str, list[float]]] = {}
    early = hyperparameters.get("early_stopping_rounds")
    booster = xgboost.train(
        params,
        matrices["train"],
        num_boost_round=int(hyperparameters.get("num_round", "100")),
        evals=evaluations,
        early_stopping_rounds=int(early) if early and "validation" in matrices else None,
        evals_result=history,
        verbose_eval=False,
    )
    with tempfile.TemporaryDirectory() as scratch:
        # JSON, which every xgboost since 1.0 loads whatever the file is called (the algorithm's own file
        # has no extension).
        model_file = Path(scratch) / "model.json"
        booster.save_model(str(model_file))
        archive.parent.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "w:gz") as bundle:
            bundle.add(model_file, arcname=XGBOOST_MODEL_FILE)
    return {
        f"{channel}:{metric}": float(values[-1])
        for channel, metrics in history.items()
        for metric, values in metrics.items()
    }


def predict_xgboost(model_file: Path, rows: Sequence[Sequence[str]]) -> list[str]:
    """The model's output for CSV feature rows (an empty field is missing), as the algorithm writes it."""
    import numpy  # noqa: PLC0415  (dev-only dependencies, imported where the stand-in runs)
    import xgboost  # noqa: PLC0415

    booster = xgboost.Booster()
    booster.load_model(str(model_file))
    values = numpy.array([[float(v) if v.strip() else numpy.nan for v in row] for row in rows], dtype=float)
    return [repr(float(value)) for value in booster.predict(xgboost.DMatrix(values, missing=numpy.nan))]


def _csv_filter(expression: object) -> Callable[[Sequence[str]], list[str]]:
    """A transform job's JSONPath filter on a CSV record: `$`, `$[a:b]` or `$[i,j,...]` (negative allowed)."""
    if expression in (None, "", "$"):
        return list
    text = str(expression).replace(" ", "")
    sliced = re.fullmatch(r"\$\[(-?\d*):(-?\d*)\]", text)
    if sliced:
        start, stop = (int(bound) if bound else None for bound in sliced.groups())
        return lambda row: list(row[start:stop])
    indices = re.fullmatch(r"\$\[(-?\d+(?:,-?\d+)*)\]", text)
    if indices:
        positions = [int(index) for index in indices.group(1).split(",")]
        return lambda row: [row[position] for position in positions]
    raise ValueError(f"the filter {expression!r} is not one the local runner applies ($, $[a:b], $[i,j])")


def data_quality_baseline(paths: Sequence[Path]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Statistics and constraints of a headerless CSV, in the shape of Model Monitor's files, reduced."""
    rows = [line.split(",") for path in paths for line in path.read_text().splitlines() if line.strip()]
    width = len(rows[0]) if rows else 0
    features: list[dict[str, Any]] = []
    constraints: list[dict[str, Any]] = []
    for column in range(width):
        values = [row[column].strip() for row in rows if column < len(row)]
        present = [float(value) for value in values if value]
        completeness = len(present) / len(values) if values else 0.0
        features.append(
            {
                "name": f"_c{column}",
                "inferred_type": "Fractional",
                "numerical_statistics": {
                    "common": {"num_present": len(present), "num_missing": len(values) - len(present)},
                    "min": min(present, default=0.0),
                    "max": max(present, default=0.0),
                    "mean": sum(present) / len(present) if present else 0.0,
                },
            }
        )
        constraints.append(
            {"name": f"_c{column}", "inferred_type": "Fractional", "completeness": completeness}
        )
    return (
        {"version": 0.0, "dataset": {"item_count": len(rows)}, "features": features},
        {"version": 0.0, "features": constraints},
    )


# --- request shapes ----------------------------------------------------------------------------------------


@functools.cache
def _sagemaker_model() -> Any:
    import botocore.session  # noqa: PLC0415  (only runs that record requests need the service model)

    return botocore.session.get_session().get_service_model("sagemaker")


@functools.cache
def _pattern(expression: str) -> Any:
    # botocore's patterns use \p{..} classes, which `re` lacks.
    import regex  # type: ignore[import-untyped]  # noqa: PLC0415

    # Some of botocore's patterns end in a stray `${min,max}`; the length is checked on its own.
    return regex.compile(re.sub(r"\$\{\d+,\d+\}$", "", expression))


def request_shape_problems(operation: str, request: Mapping[str, Any]) -> list[str]:
    """Where `request` breaks the string lengths, collection sizes or patterns of `operation`'s input shape
    (members it does not know are left to the schema checks of the rendered definition)."""
    shape = _sagemaker_model().operation_model(operation).input_shape
    problems: list[str] = []
    _check_shape(shape, request, operation, problems)
    return problems


def _check_shape(shape: Any, value: Any, path: str, problems: list[str]) -> None:
    metadata = shape.metadata
    if shape.type_name == "structure" and isinstance(value, dict):
        for member, item in value.items():
            if member in shape.members:
                _check_shape(shape.members[member], item, f"{path}.{member}", problems)
    elif shape.type_name == "list" and isinstance(value, list):
        _check_size(metadata, len(value), path, problems)
        for index, item in enumerate(value):
            _check_shape(shape.member, item, f"{path}[{index}]", problems)
    elif shape.type_name == "map" and isinstance(value, dict):
        _check_size(metadata, len(value), path, problems)
        for key, item in value.items():
            _check_shape(shape.key, key, f"{path} key {key!r}", problems)
            _check_shape(shape.value, item, f"{path}[{key!r}]", problems)
    elif shape.type_name == "string" and isinstance(value, str):
        _check_size(metadata, len(value), path, problems)
        pattern = metadata.get("pattern")
        if pattern and PLACEHOLDER_MARK not in value and not _pattern(pattern).fullmatch(value):
            problems.append(f"{path} {value!r} does not match the pattern {pattern}")


def _check_size(metadata: Mapping[str, Any], size: int, path: str, problems: list[str]) -> None:
    low, high = metadata.get("min"), metadata.get("max")
    if low is not None and size < low:
        problems.append(f"{path} has length {size}, under the minimum {low}")
    if high is not None and size > high:
        problems.append(f"{path} has length {size}, over the maximum {high}")


# --- helpers -----------------------------------------------------------------------------------------------


def _condition(condition: dict[str, Any]) -> bool:
    kind = condition["Type"]
    if kind == "Not":
        return not _condition(condition["Expression"])
    if kind == "Or":
        return any(_condition(item) for item in condition["Conditions"])
    if kind == "In":
        return condition["QueryValue"] in condition["Values"]
    left, right = condition["LeftValue"], condition["RightValue"]
    if kind == "Equals":
        return bool(left == right)
    comparisons: dict[str, Callable[[float, float], bool]] = {
        "GreaterThan": operator.gt,
        "GreaterThanOrEqualTo": operator.ge,
        "LessThan": operator.lt,
        "LessThanOrEqualTo": operator.le,
    }
    if kind not in comparisons:
        raise RunError(f"condition type {kind!r} is not supported by the local runner")
    return comparisons[kind](float(left), float(right))


def _typed(name: str, parameter_type: str, value: str) -> Any:
    try:
        if parameter_type == "Float":
            return float(value)
        if parameter_type == "Integer":
            return int(value)
        if parameter_type == "Boolean":
            if value.lower() not in ("true", "false"):
                raise ValueError(value)
            return value.lower() == "true"
    except ValueError:
        raise RunError(f"--param {name}={value!r} is not a {parameter_type}") from None
    return value


def _as_text(value: Json) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _steps_by_name(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for step in steps:
        found[step["Name"]] = step
        if step["Type"] == "Condition":
            found.update(_steps_by_name(step["Arguments"].get("IfSteps", [])))
            found.update(_steps_by_name(step["Arguments"].get("ElseSteps", [])))
    return found


def _without_branches(step: dict[str, Any]) -> dict[str, Any]:
    if step.get("Type") != "Condition":
        return step
    arguments = {
        key: value for key, value in step["Arguments"].items() if key not in ("IfSteps", "ElseSteps")
    }
    return {**step, "Arguments": arguments}
