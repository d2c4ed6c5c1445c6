"""A scikit-learn decision tree behind SageMaker's container contract (`train` and `serve` programs).

In the image this package is `decision_tree` (in /opt/program); in the repository it is
`containers.decision_tree.decision_tree`. Modules import each other relatively so both names work.
The package imports neither `aws_cdk` nor `constructs`: it runs in the container, not at synth.
"""
