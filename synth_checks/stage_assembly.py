"""What every synth-time check reads: the manifest of each Stage whose templates a validation plugin gets."""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk


def stage_manifests(context: cdk.IPolicyValidationContext) -> list[Path]:
    """The manifest of each Stage assembly that holds one of the templates the plugin is given."""
    manifests = {Path(path).parent / "manifest.json" for path in context.template_paths}
    return sorted(manifest for manifest in manifests if manifest.is_file())
