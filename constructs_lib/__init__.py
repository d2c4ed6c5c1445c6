"""Capability constructs, one per file. They take plain typed keyword arguments, never the config."""
