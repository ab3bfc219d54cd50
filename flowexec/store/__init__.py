"""Persistence: the SQLAlchemy models and the queries and conditional updates over them."""
