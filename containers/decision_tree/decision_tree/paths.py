"""The /opt/ml contract: where SageMaker puts inputs and collects outputs, overridable by environment.

SageMaker mounts one tree into the container (`/opt/ml`). A bring-your-own container sees only that tree;
the `SM_*` variables below are the names the SageMaker training toolkit exports for the same locations,
honoured here so that code, tests and local runs can point anywhere. Resolution order, most specific first:

| location                       | variable              | default                          |
| ------------------------------ | --------------------- | -------------------------------- |
| the whole tree                 | `OPT_ML`              | `/opt/ml`                        |
| inputs                         | `SM_INPUT_DIR`        | `<OPT_ML>/input`                 |
| hyperparameters.json           | `SM_INPUT_CONFIG_DIR` | `<input>/config`                 |
| channel `<name>`               | `SM_CHANNEL_<NAME>`   | `<input>/data/<name>`            |
| the model (saved and served)   | `SM_MODEL_DIR`        | `<OPT_ML>/model`                 |
| the `failure` file             | `SM_OUTPUT_DIR`       | `<OPT_ML>/output`                |
| other outputs (metrics.json)   | `SM_OUTPUT_DATA_DIR`  | `<output>/data`                  |

`SM_HPS` (a JSON object) replaces hyperparameters.json when set; see `hyperparameters.py`. An empty
variable counts as unset.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE = Path("/opt/ml")
BASE_VARIABLE = "OPT_ML"
HYPERPARAMETERS_FILE = "hyperparameters.json"
FAILURE_FILE = "failure"
# Written by `train`, read by `serve`: SageMaker tars the model directory up and unpacks it at inference.
MODEL_FILE = "model.joblib"


def _from_environ(environ: Mapping[str, str], name: str, default: Path) -> Path:
    value = environ.get(name, "")
    return Path(value) if value else default


@dataclass(frozen=True)
class ContainerPaths:
    """The resolved locations of one run; `channel()` resolves a data channel on demand."""

    base: Path
    input_dir: Path
    input_config_dir: Path
    model_dir: Path
    output_dir: Path
    output_data_dir: Path
    environ: Mapping[str, str]

    @property
    def hyperparameters_file(self) -> Path:
        return self.input_config_dir / HYPERPARAMETERS_FILE

    @property
    def failure_file(self) -> Path:
        return self.output_dir / FAILURE_FILE

    def channel(self, name: str) -> Path:
        """The directory of data channel `name` (`train`, `validation`, ...)."""
        return _from_environ(self.environ, f"SM_CHANNEL_{name.upper()}", self.input_dir / "data" / name)


def resolve_paths(environ: Mapping[str, str] | None = None) -> ContainerPaths:
    """The locations for this process, from `environ` (default: `os.environ`)."""
    env = dict(os.environ if environ is None else environ)
    base = _from_environ(env, BASE_VARIABLE, DEFAULT_BASE)
    input_dir = _from_environ(env, "SM_INPUT_DIR", base / "input")
    output_dir = _from_environ(env, "SM_OUTPUT_DIR", base / "output")
    return ContainerPaths(
        base=base,
        input_dir=input_dir,
        input_config_dir=_from_environ(env, "SM_INPUT_CONFIG_DIR", input_dir / "config"),
        model_dir=_from_environ(env, "SM_MODEL_DIR", base / "model"),
        output_dir=output_dir,
        output_data_dir=_from_environ(env, "SM_OUTPUT_DATA_DIR", output_dir / "data"),
        environ=env,
    )
