"""Unbound extensions, bound by ``create_app``."""

from flask_migrate import Migrate

migrate = Migrate(compare_type=True)
