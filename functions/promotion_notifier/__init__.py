"""The promotion notifier: says which configuration change promotes a newly approved model version.

The code is one module, `handler.py`, so that the asset works whichever folder is its root
(`functions/promotion_notifier` with handler `handler.handler`). Nothing here may import from the project.
"""
