"""Unbound extensions, bound by ``create_app``.

Flask-SQLAlchemy owns the engine and the app-context-scoped sessions; the store is handed
that session source when the app is composed, so neither ``flowexec`` nor ``workers`` sees it.
"""

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from flowexec.store.db import Base

db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate(compare_type=True)
