"""Persistence: typed models, the engine and sessions, and Alembic migrations."""
