"""Unbound extensions, bound by ``create_app``.

Flask-SQLAlchemy owns the engine and the app-context-scoped sessions; the store is handed
that session source when the app is composed, so neither ``flowexec`` nor ``workers`` sees it.
"""

from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flowexec.store.db import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})


class Extensions(dict[str, Any]):
    """An app's ``extensions`` that binds Flask-Migrate when it is first asked for: importing it
    imports Alembic (about 0.15 s), which only a migration needs, not every start."""

    def __init__(self, app: Flask, directory: str) -> None:
        super().__init__(app.extensions)
        self._app, self._directory = app, directory

    def __missing__(self, key: str) -> Any:
        if key != "migrate":
            raise KeyError(key)
        from flask_migrate import Migrate

        Migrate(compare_type=True).init_app(self._app, db, directory=self._directory)
        return self[key]
