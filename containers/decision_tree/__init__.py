"""The decision-tree image's build context. Its Python package is `decision_tree/decision_tree`."""
