"""Serving: endpoints from pinned, approved model packages, their autoscaling, runtime access, data capture
and data-quality monitoring, the promotion notifier, and the deployment and serving roles a serving
environment grants the environments it trusts (ADR 0008)."""
