"""Observability: the encrypted alarm topic, pipeline and endpoint alarms, and the environment's dashboard."""
