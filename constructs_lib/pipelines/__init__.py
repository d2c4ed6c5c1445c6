"""Pipelines: SageMaker pipelines rendered from `pipeline_defs/`, the role they run as, what starts them
(new data, schedules), their failure alerts, and scheduled notebooks as pipelines of one notebook job
(ADR 0015)."""
