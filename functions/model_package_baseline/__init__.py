"""A custom resource that reads a model package of another account: its approval and data-quality baseline.

The code is one module, `handler.py`, so that the asset works whichever folder is its root
(`functions/model_package_baseline` with handler `handler.handler`, the same as `handler.on_event`). Nothing
here may import from the project.
"""
