"""flowexec: DataSphere Studio flow execution on Celery."""

__version__ = "0.1.0"
