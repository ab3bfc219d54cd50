"""The ways in: the app factory (``api.app``), the HTTP API (``api.http``), the ``flowexec`` command
(``api.cli``), the gunicorn and Celery targets (``api.wsgi``, ``api.worker``) and the one-process stack
(``api.embedded``)."""
