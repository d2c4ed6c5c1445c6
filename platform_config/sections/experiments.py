"""`experiments`: the environment's SageMaker managed MLflow tracking server."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, StrictBool, StrictStr

from platform_config.sections.shared import FrozenModel


class ExperimentsConfig(FrozenModel):
    """A SageMaker managed MLflow tracking server; its artifacts go to the platform's artifact bucket."""

    tracking_server_size: Literal["Small", "Medium", "Large"] = "Small"
    mlflow_version: StrictStr | None = Field(
        default=None, pattern=r"^\d+\.\d+(\.\d+)?$", description="None: SageMaker's default version"
    )
    automatic_model_registration: StrictBool = Field(
        default=False, description="Register MLflow models in the SageMaker model registry automatically"
    )
    weekly_maintenance_window: StrictStr | None = Field(
        default=None, pattern=r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun):([01]\d|2[0-3]):[0-5]\d$"
    )
