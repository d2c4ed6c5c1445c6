#!/usr/bin/env python3
"""The SDK line, measured: render the shipped DAGs with SageMaker SDK 3's pipeline packages in a throwaway
virtualenv, under the same offline guards, and compare with what the repository's SDK 2.x renders.

Not part of `make test`: it needs a second virtualenv with SDK 3 (about 740 MB). Reproduce with

    python3 -m venv /tmp/uvtool && /tmp/uvtool/bin/pip install uv==0.13.8
    /tmp/uvtool/bin/uv venv /tmp/sdk3 --python python3.11
    /tmp/uvtool/bin/uv pip install --python /tmp/sdk3/bin/python sagemaker-mlops==1.27.0
    /tmp/uvtool/bin/uv venv /tmp/sdk2 --python python3.11      # SDK 2 alone, for its size
    /tmp/uvtool/bin/uv pip install --python /tmp/sdk2/bin/python sagemaker==2.257.7
    .venv/bin/python bench/sdk3_compare.py --sdk3-python /tmp/sdk3/bin/python \
        --sdk2-python /tmp/sdk2/bin/python

(pip's own resolver backtracks for many minutes over aiobotocore sdists; uv resolves in seconds.)

The same file is both sides: run by the SDK 3 interpreter with `--render-v3 OUT` it ports the DAGs to SDK 3
classes (standalone, no project import: the project's adapter imports SDK 2) and writes the bodies and its
timings; run by the project's interpreter it renders with SDK 2 through pipeline_defs, starts the SDK 3
side in a fresh process, and prints sizes, times and a path-by-path diff. Writes bench/out/sdk3_compare.json.

What SDK 3 cannot express with the same classes is reported, not papered over: `Estimator` is gone (a
`ModelTrainer` trains), `Model.register()`/`Model.create()` are gone (`ModelBuilder`), `SKLearnProcessor` is
gone (a `ScriptProcessor` with the scikit-learn image). The port below covers what maps one to one.
"""

# The SDK 3 side imports inside its function, after the guards and the timer start, in another virtualenv
# (whose modules this project's type checker cannot see); the SDK 2 side imports the project after its timer.
# ruff: noqa: PLC0415
# mypy: disable-error-code="import-not-found"
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_FILE = ROOT / "bench" / "out" / "sdk3_compare.json"
EMPTY_SDK_CONFIG = ROOT / "pipeline_defs" / "sagemaker_config_empty.yaml"

# The full render context of tests/pipeline_defs/support.py (placeholders everywhere a token goes), whose
# values are pipeline_defs.context's placeholders; copied because the SDK 3 side cannot import the project.
REGION = "eu-west-1"
BUCKET = "__ARTIFACT_BUCKET__"
DATA_BUCKET = "__DATA_BUCKET__"
ROLE_ARN = "arn:aws:iam::000000000000:role/__PIPELINE_ROLE__"
KMS_KEY = "arn:aws:kms:__REGION__:000000000000:key/__DATA_KEY__"
SUBNETS = ["subnet-__PIPELINE_SUBNET_0__", "subnet-__PIPELINE_SUBNET_1__"]
SECURITY_GROUPS = ["sg-__PIPELINE_SECURITY_GROUP__"]
MLFLOW_ARN = "__MLFLOW_TRACKING_ARN__"
CODE = {
    "preprocess.py": "s3://__CODE_BUCKET__/asset-hash-of-preprocess.py",
    "evaluate.py": "s3://__CODE_BUCKET__/asset-hash-of-evaluate.py",
}


# --- the SDK 3 side (runs in the throwaway virtualenv) ----------------------------------------------------


def _guards_v3() -> None:
    """The guards of pipeline_defs/_sdk.py, plus the two SDK 3 needs (region before import, no role check)."""
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["SAGEMAKER_ADMIN_CONFIG_OVERRIDE"] = str(EMPTY_SDK_CONFIG)
    os.environ["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(EMPTY_SDK_CONFIG)
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["SAGEMAKER_VALIDATE_ROLE"] = "false"
    os.environ["AWS_ACCESS_KEY_ID"] = "OFFLINE-RENDER"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "offline-render-never-calls-aws"
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)


def _block_network(attempts: list[str]) -> None:
    import socket

    def connect(self: socket.socket, address: object) -> None:
        attempts.append(f"connect {address!r}")
        raise OSError("network blocked")

    setattr(socket.socket, "connect", connect)  # noqa: B010 - replaced for this process on purpose


def _block_api_calls(attempts: list[str]) -> None:
    import botocore.client

    def call(self: Any, operation_name: str, api_params: object) -> None:
        attempts.append(f"{self.meta.service_model.service_name}:{operation_name}")
        raise OSError(f"network blocked: {operation_name}")

    setattr(botocore.client.BaseClient, "_make_api_call", call)  # noqa: B010 - as above


def render_v3(out_dir: Path) -> None:  # noqa: PLR0915 - one port, read top to bottom
    attempts: list[str] = []
    _guards_v3()
    _block_network(attempts)
    started = time.perf_counter()
    import boto3
    from sagemaker.core import image_uris
    from sagemaker.core.network import NetworkConfig
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import (
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.telemetry import telemetry_logging
    from sagemaker.core.training.configs import Compute, InputData, Networking, OutputDataConfig
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterString
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.core.workflow.pipeline_definition_config import PipelineDefinitionConfig
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow import (
        CacheConfig,
        ConditionStep,
        FailStep,
        Pipeline,
        ProcessingStep,
        TrainingStep,
        TransformStep,
    )
    from sagemaker.train import ModelTrainer

    imported = time.perf_counter()
    _block_api_calls(attempts)
    telemetry_logging._send_telemetry_request = lambda *args, **kwargs: None

    session = PipelineSession(
        boto_session=boto3.Session(
            region_name=REGION,
            aws_access_key_id="OFFLINE-RENDER",
            aws_secret_access_key="offline-render-never-calls-aws",
        ),
        default_bucket=BUCKET,
    )
    vars(session)["_default_bucket"] = BUCKET
    execution_id = ExecutionVariables.PIPELINE_EXECUTION_ID
    caching = CacheConfig(enable_caching=True, expire_after="P30D")
    network = NetworkConfig(
        subnets=list(SUBNETS), security_group_ids=list(SECURITY_GROUPS), encrypt_inter_container_traffic=True
    )

    def s3(*parts: Any) -> Join:
        return Join(on="/", values=["s3:/", *parts])

    def new_pipeline(name: str, parameters: list[Any], steps: list[Any]) -> Pipeline:
        return Pipeline(
            name=name,
            parameters=parameters,
            steps=steps,
            sagemaker_session=session,
            pipeline_experiment_config=None,
            pipeline_definition_config=PipelineDefinitionConfig(use_custom_job_prefix=True),
        )

    # batch_inference: the same classes as SDK 2 (Transformer, TransformStep).
    name = "batch-inference"
    model_name = ParameterString(name="ModelName")
    input_bucket = ParameterString(name="InputDataBucket", default_value=DATA_BUCKET)
    input_key = ParameterString(name="InputDataKey", default_value="datasets/churn/inference.csv")
    transform_type = ParameterString(name="TransformInstanceType", default_value="ml.m5.large")
    transformer = Transformer(
        model_name=model_name,
        instance_count=1,
        instance_type=transform_type,
        strategy="MultiRecord",
        assemble_with="Line",
        accept="text/csv",
        output_path=s3(BUCKET, "pipelines", name, "predictions", execution_id),
        output_kms_key=KMS_KEY,
        volume_kms_key=KMS_KEY,
        base_transform_job_name=f"{name}-predict",
        sagemaker_session=session,
    )
    predict = TransformStep(
        name="Predict",
        step_args=transformer.transform(
            data=s3(input_bucket, input_key),
            content_type="text/csv",
            split_type="Line",
            join_source="Input",
            job_name=f"{name}-predict",
        ),
    )
    batch = new_pipeline(name, [model_name, input_bucket, input_key, transform_type], [predict])

    # model_build, as far as it maps: Preprocess, Train, Evaluate, CheckAccuracy -> Fail. Not ported:
    # DataQualityBaseline, Model-RegisterModel, Scoring-CreateModel and ScoreTest (ModelBuilder in SDK 3).
    name = "model-build"
    environment = {"MLFLOW_TRACKING_ARN": MLFLOW_ARN, "MLFLOW_EXPERIMENT_NAME": name}
    input_bucket = ParameterString(name="InputDataBucket", default_value=DATA_BUCKET)
    input_key = ParameterString(name="InputDataKey", default_value="datasets/churn/latest.csv")
    target_column = ParameterString(name="TargetColumn", default_value="churn")
    drop_columns = ParameterString(name="DropColumns", default_value="phone")
    processing_type = ParameterString(name="ProcessingInstanceType", default_value="ml.m5.xlarge")
    training_type = ParameterString(name="TrainingInstanceType", default_value="ml.m5.xlarge")
    threshold = ParameterFloat(name="AccuracyThreshold", default_value=0.9)
    approval = ParameterString(
        name="ModelApprovalStatus",
        default_value="PendingManualApproval",
        enum_values=["PendingManualApproval", "Approved", "Rejected"],
    )
    sklearn_image = image_uris.retrieve(framework="sklearn", region=REGION, version="1.2-1")
    xgboost_image = image_uris.retrieve(framework="xgboost", region=REGION, version="1.7-1")

    def run_path(step: str, output: str) -> Join:
        return s3(BUCKET, "pipelines", name, execution_id, step, output)

    def processing_input(input_name: str, source: Any, destination: str) -> Any:
        return ProcessingInput(
            input_name=input_name,
            s3_input=ProcessingS3Input(
                s3_uri=source,
                local_path=destination,
                s3_data_type="S3Prefix",
                s3_input_mode="File",
                s3_data_distribution_type="FullyReplicated",
                s3_compression_type="None",
            ),
        )

    def processing_output(output_name: str, source: str, destination: Any) -> Any:
        return ProcessingOutput(
            output_name=output_name,
            s3_output=ProcessingS3Output(s3_uri=destination, local_path=source, s3_upload_mode="EndOfJob"),
        )

    preprocessor = ScriptProcessor(
        role=ROLE_ARN,
        image_uri=sklearn_image,
        command=["python3"],
        instance_count=1,
        instance_type=processing_type,
        base_job_name=f"{name}-preprocess",
        volume_kms_key=KMS_KEY,
        output_kms_key=KMS_KEY,
        network_config=network,
        env=environment,
        sagemaker_session=session,
    )
    channels = ("train", "validation", "test", "baseline", "schema")
    preprocess = ProcessingStep(
        name="Preprocess",
        step_args=preprocessor.run(
            code=CODE["preprocess.py"],
            arguments=[
                "--target-column",
                target_column,
                Join(on="", values=["--drop-columns=", drop_columns]),
            ],
            inputs=[processing_input("dataset", s3(input_bucket, input_key), "/opt/ml/processing/input")],
            outputs=[
                processing_output(channel, f"/opt/ml/processing/{channel}", run_path("preprocess", channel))
                for channel in channels
            ],
        ),
        cache_config=caching,
    )

    def channel_uri(channel: str) -> Any:
        return preprocess.properties.ProcessingOutputConfig.Outputs[channel].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=xgboost_image,
        role=ROLE_ARN,
        base_job_name=f"{name}-train",
        compute=Compute(instance_type=training_type, instance_count=1, volume_kms_key_id=KMS_KEY),
        networking=Networking(
            subnets=list(SUBNETS),
            security_group_ids=list(SECURITY_GROUPS),
            enable_inter_container_traffic_encryption=True,
        ),
        output_data_config=OutputDataConfig(
            s3_output_path=f"s3://{BUCKET}/models/{name}", kms_key_id=KMS_KEY
        ),
        hyperparameters={
            "objective": "binary:logistic",
            "eval_metric": "auc",
            "num_round": "200",
            "early_stopping_rounds": "10",
            "max_depth": "5",
            "eta": "0.2",
            "subsample": "0.8",
            "min_child_weight": "1",
            "seed": "7",
        },
        environment=environment,
        sagemaker_session=session,
    )
    train = TrainingStep(
        name="Train",
        step_args=trainer.train(
            input_data_config=[
                InputData(channel_name=channel, data_source=channel_uri(channel), content_type="text/csv")
                for channel in ("train", "validation")
            ]
        ),
        cache_config=caching,
    )
    evaluator = ScriptProcessor(
        role=ROLE_ARN,
        image_uri=xgboost_image,
        command=["python3"],
        instance_count=1,
        instance_type=processing_type,
        base_job_name=f"{name}-evaluate",
        volume_kms_key=KMS_KEY,
        output_kms_key=KMS_KEY,
        network_config=network,
        env=environment,
        sagemaker_session=session,
    )
    report = PropertyFile(name="EvaluationReport", output_name="evaluation", path="evaluation.json")
    evaluate = ProcessingStep(
        name="Evaluate",
        step_args=evaluator.run(
            code=CODE["evaluate.py"],
            inputs=[
                processing_input(
                    "model", train.properties.ModelArtifacts.S3ModelArtifacts, "/opt/ml/processing/model"
                ),
                processing_input("test", channel_uri("test"), "/opt/ml/processing/test"),
            ],
            outputs=[
                processing_output(
                    "evaluation", "/opt/ml/processing/evaluation", run_path("evaluate", "evaluation")
                )
            ],
        ),
        property_files=[report],
        cache_config=caching,
    )
    accuracy = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.accuracy.value")
    too_low = FailStep(
        name="AccuracyTooLow",
        error_message=Join(
            on="",
            values=[
                "Accuracy ",
                accuracy,
                " is below the threshold ",
                threshold,
                " (AccuracyThreshold): the model was not registered.",
            ],
        ),
    )
    check = ConditionStep(
        name="CheckAccuracy",
        conditions=[ConditionGreaterThanOrEqualTo(left=accuracy, right=threshold)],
        if_steps=[],
        else_steps=[too_low],
    )
    build = new_pipeline(
        name,
        [
            input_bucket,
            input_key,
            target_column,
            drop_columns,
            processing_type,
            training_type,
            threshold,
            approval,
        ],
        [preprocess, train, evaluate, check],
    )
    built = time.perf_counter()
    bodies = {"batch_inference": batch.definition(), "model_build": build.definition()}
    rendered = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    for key, body in bodies.items():
        (out_dir / f"v3_{key}.json").write_text(body)
    (out_dir / "v3_figures.json").write_text(
        json.dumps(
            {
                "import_s": imported - started,
                "build_s": built - imported,
                "render_s": rendered - built,
                "network_attempts": attempts,
            }
        )
    )


# --- the comparison (runs in the project's virtualenv) ----------------------------------------------------


def _paths(node: Any, prefix: str = "") -> dict[str, Any]:
    """Every leaf of a JSON value by path; steps and parameters keyed by their Name, not their position."""
    if isinstance(node, dict):
        leaves: dict[str, Any] = {}
        for key, value in node.items():
            leaves.update(_paths(value, f"{prefix}/{key}"))
        return leaves or {prefix: {}}
    if isinstance(node, list):
        if node and all(isinstance(item, dict) and "Name" in item for item in node):
            keyed = {f"{prefix}[{item['Name']}]": item for item in node}
            return {p: v for key, item in keyed.items() for p, v in _paths(item, key).items()}
        leaves = {}
        for index, value in enumerate(node):
            leaves.update(_paths(value, f"{prefix}[{index}]"))
        return leaves or {prefix: []}
    return {prefix: node}


def _flatten_steps(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with condition branches' steps lifted beside the top-level steps (by name)."""
    steps: list[dict[str, Any]] = []
    pending = list(definition.get("Steps", []))
    while pending:
        step = pending.pop(0)
        arguments = step.get("Arguments", {})
        for branch in ("IfSteps", "ElseSteps"):
            pending.extend(arguments.get(branch, []))
            if branch in arguments:
                arguments = {**arguments, branch: [s["Name"] for s in arguments[branch]]}
        steps.append({**step, "Arguments": arguments})
    return {**definition, "Steps": steps}


def _size_mb(python: Path) -> float:
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    total = sum(f.stat().st_size for f in Path(site).rglob("*") if f.is_file() and not f.is_symlink())
    return total / 1_000_000


def compare(sdk3_python: Path, sdk2_python: Path | None, out_dir: Path) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    v2_started = time.perf_counter()
    import pipeline_defs  # the project's SDK 2 adapter, with its guards

    v2_imported = time.perf_counter()
    from tests.pipeline_defs.support import blocked_network, full_context

    v2_bodies: dict[str, str] = {}
    with blocked_network() as v2_attempts:
        render_started = time.perf_counter()
        for key in ("batch_inference", "model_build"):
            v2_bodies[key] = pipeline_defs.render(key, full_context(key))
        v2_rendered = time.perf_counter()
    result = subprocess.run(
        [str(sdk3_python), str(Path(__file__).resolve()), "--render-v3", str(out_dir)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    if result.returncode != 0:
        raise SystemExit(f"the SDK 3 side failed:\n{result.stderr[-4000:]}")
    v3 = json.loads((out_dir / "v3_figures.json").read_text())
    report: dict[str, Any] = {
        "v2": {
            "version": _version(Path(sys.executable), "sagemaker"),
            # The SDK alone, in a virtualenv of its own: the project's .venv also holds CDK, moto, ...
            "site_packages_mb": round(_size_mb(sdk2_python), 1) if sdk2_python else None,
            "import_s": round(v2_imported - v2_started, 2),
            "render_both_s": round(v2_rendered - render_started, 2),
            "network_attempts": list(v2_attempts),
        },
        "v3": {
            "versions": {
                name: _version(sdk3_python, name)
                for name in ("sagemaker-core", "sagemaker-train", "sagemaker-serve", "sagemaker-mlops")
            },
            "site_packages_mb": round(_size_mb(sdk3_python), 1),
            "import_s": round(v3["import_s"], 2),
            "build_and_render_both_s": round(v3["build_s"] + v3["render_s"], 2),
            "network_attempts": v3["network_attempts"],
        },
        "diff": {},
    }
    for key, v2_body in v2_bodies.items():
        v2_leaves = _paths(_flatten_steps(json.loads(v2_body)))
        v3_leaves = _paths(_flatten_steps(json.loads((out_dir / f"v3_{key}.json").read_text())))
        v3_steps = {path.split("]")[0] for path in v3_leaves if path.startswith("/Steps[")}
        only_v2 = sorted(p for p in v2_leaves if p not in v3_leaves)
        not_ported = sorted({p.split("]")[0] + "]" for p in only_v2 if p.split("]")[0] not in v3_steps})
        report["diff"][key] = {
            "leaves_v2": len(v2_leaves),
            "leaves_v3": len(v3_leaves),
            "steps_not_ported": not_ported,
            "only_in_v2": [p for p in only_v2 if p.split("]")[0] in v3_steps or not p.startswith("/Steps[")],
            "only_in_v3": sorted(p for p in v3_leaves if p not in v2_leaves),
            "different": {
                p: {"v2": v2_leaves[p], "v3": v3_leaves[p]}
                for p in sorted(set(v2_leaves) & set(v3_leaves))
                if v2_leaves[p] != v3_leaves[p]
            },
        }
    return report


def _version(python: Path, distribution: str) -> str:
    code = f"import importlib.metadata as m; print(m.version({distribution!r}))"
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--render-v3", type=Path, help="(internal) render with SDK 3 into this folder")
    parser.add_argument("--sdk3-python", type=Path, default=Path("/tmp/sdk3/bin/python"))
    parser.add_argument(
        "--sdk2-python",
        type=Path,
        default=None,
        help="a virtualenv with only sagemaker==2.257.7, for its installed size (e.g. /tmp/sdk2/bin/python)",
    )
    parser.add_argument("--out-dir", type=Path, default=ROOT / "bench" / "out" / "sdk3")
    args = parser.parse_args()
    if args.render_v3 is not None:
        render_v3(args.render_v3)
        return 0
    report = compare(args.sdk3_python, args.sdk2_python, args.out_dir)
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    OUT_FILE.write_text(json.dumps(report, indent=2, default=str) + "\n")
    for side in ("v2", "v3"):
        figures = {k: v for k, v in report[side].items() if k != "network_attempts"}
        print(side, json.dumps(figures), "network attempts:", len(report[side]["network_attempts"]))
    for key, diff in report["diff"].items():
        print(
            f"{key}: {diff['leaves_v2']} leaves (v2), {diff['leaves_v3']} (v3); not ported: "
            f"{', '.join(diff['steps_not_ported']) or 'none'}; only v2: {len(diff['only_in_v2'])}; "
            f"only v3: {len(diff['only_in_v3'])}; different: {len(diff['different'])}"
        )
    print(f"wrote {OUT_FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
