"""The model approval guard: rejects approved model packages whose metric misses their group's baseline.

The code is one module, `handler.py`, so that the asset works whichever folder is its root
(`functions/approval_guard` with handler `handler.handler`). Nothing here may import from the project.
"""
