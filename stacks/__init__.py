"""Stacks compose constructs_lib constructs for one environment; `platform_stage` builds the app."""
