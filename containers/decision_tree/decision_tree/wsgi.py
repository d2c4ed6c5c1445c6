"""The WSGI entry point gunicorn loads (`<package>.wsgi:app`).

gunicorn runs with `--preload`, so this module is imported once, in the master, before the workers fork:
the model is loaded here and every worker starts with it in memory, and the first `/ping` does not wait for
a load (SageMaker allows a ping 2 s).
"""

from __future__ import annotations

from .predictor import create_app, model_store

app = create_app()
model_store(app).preload()
