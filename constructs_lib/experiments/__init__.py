"""Experiments: the managed MLflow tracking server and the grant that lets a role use it."""
