"""The HTTP API: DSS entrance and native blueprints, the envelope, auth, schemas, OpenAPI."""
