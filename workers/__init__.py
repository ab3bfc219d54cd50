"""Celery side: the app wiring, node tasks, dispatch, lifecycle signals and beat."""
