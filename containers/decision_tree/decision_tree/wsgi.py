"""The WSGI entry point gunicorn loads (`<package>.wsgi:app`), once in each worker process."""

from __future__ import annotations

from .predictor import create_app

app = create_app()
