"""Alembic migrations of the store, run in code by `mosaic_studio.store.db.upgrade`."""
