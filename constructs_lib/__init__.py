"""Capability constructs, one package per capability and one construct per file within it (ADR 0018).

They take plain typed keyword arguments, never the config. A capability package imports `shared` and, where
ADR 0018 lists it, another capability; `shared` imports no capability.
"""
