"""The /opt/ml contract and its overrides."""

from __future__ import annotations

from pathlib import Path

from containers.decision_tree.decision_tree.paths import resolve_paths


def test_defaults_are_sagemakers_tree() -> None:
    paths = resolve_paths({})

    assert paths.hyperparameters_file == Path("/opt/ml/input/config/hyperparameters.json")
    assert paths.channel("train") == Path("/opt/ml/input/data/train")
    assert paths.model_dir == Path("/opt/ml/model")
    assert paths.failure_file == Path("/opt/ml/output/failure")
    assert paths.output_data_dir == Path("/opt/ml/output/data")


def test_opt_ml_moves_the_whole_tree() -> None:
    paths = resolve_paths({"OPT_ML": "/tmp/tree"})

    assert paths.hyperparameters_file == Path("/tmp/tree/input/config/hyperparameters.json")
    assert paths.channel("validation") == Path("/tmp/tree/input/data/validation")
    assert paths.model_dir == Path("/tmp/tree/model")
    assert paths.failure_file == Path("/tmp/tree/output/failure")
    assert paths.output_data_dir == Path("/tmp/tree/output/data")


def test_each_sm_variable_wins_over_the_tree() -> None:
    paths = resolve_paths(
        {
            "OPT_ML": "/tmp/tree",
            "SM_INPUT_CONFIG_DIR": "/cfg",
            "SM_CHANNEL_TRAIN": "/data/train",
            "SM_MODEL_DIR": "/models",
            "SM_OUTPUT_DIR": "/out",
            "SM_OUTPUT_DATA_DIR": "/out-data",
        }
    )

    assert paths.hyperparameters_file == Path("/cfg/hyperparameters.json")
    assert paths.channel("train") == Path("/data/train")
    assert paths.channel("validation") == Path("/tmp/tree/input/data/validation")
    assert paths.model_dir == Path("/models")
    assert paths.failure_file == Path("/out/failure")
    assert paths.output_data_dir == Path("/out-data")


def test_input_and_output_dirs_carry_their_children() -> None:
    paths = resolve_paths({"SM_INPUT_DIR": "/in", "SM_OUTPUT_DIR": "/out", "SM_MODEL_DIR": ""})

    assert paths.hyperparameters_file == Path("/in/config/hyperparameters.json")
    assert paths.channel("train") == Path("/in/data/train")
    assert paths.output_data_dir == Path("/out/data")
    # An empty variable counts as unset.
    assert paths.model_dir == Path("/opt/ml/model")
