"""Checks that run on every synth, as CDK validation plugins, over the synthesized assembly."""
