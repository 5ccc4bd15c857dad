"""Rows written as an earlier version of the app wrote them, for the tests of migrations."""

from sqlalchemy import column, insert, inspect, table
from sqlmodel import SQLModel


def insert_as_stored(conn, row: SQLModel) -> int | None:
    """Insert `row` as an earlier version of the app would (no session hooks, none of the
    columns later migrations add, which are empty here); its id."""
    model = type(row)
    stored = {c["name"] for c in inspect(conn).get_columns(model.__tablename__)}
    values = row.model_dump(
        exclude={"id"} if "id" in model.__table__.c else set(), exclude_none=True
    )
    values = {name: value for name, value in values.items() if name in stored}
    # The stored columns only: the model's defaults would fill columns added later.
    key = model.__table__.c.get("id")
    bare = table(
        model.__tablename__,
        *(column(name) for name in values),
        *([column("id")] if key is not None else []),
    )
    inserted = conn.execute(
        insert(bare).values(values).returning(*([bare.c.id] if key is not None else []))
    )
    return inserted.scalar() if key is not None else None
