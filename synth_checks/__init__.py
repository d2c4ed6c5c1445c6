"""Checks that run on every synth, as CDK validation plugins, over the synthesized assembly; and the
content-keyed folders the synth shares (content_cache)."""
