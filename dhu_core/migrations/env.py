"""Alembic environment: the engine comes from `dhu_core.db.alembic_config`, or the settings."""

from alembic import context
from sqlmodel import SQLModel

from dhu_core import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from dhu_core.db import get_engine, include_in_schema

engine = context.config.attributes.get("engine") or get_engine()


with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_in_schema,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
