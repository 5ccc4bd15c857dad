"""Getting a database ready when the app starts."""

from sqlalchemy import Engine, func, select

from dhu_core import db, demo, demo_logins
from dhu_core.config import Settings
from dhu_core.models import Organisation


class DatabaseNotReady(RuntimeError):
    """The configured database lacks migrations; `dhu init-db` brings it to the newest schema."""


def prepare_database(settings: Settings, engine: Engine | None = None) -> None:
    """Migrate and seed a new embedded database; check that a DATABASE_URL one is migrated.

    A database named by DATABASE_URL is never changed implicitly: several app processes may
    share it, and its operator decides when to migrate and whether to load demo data.
    """
    engine = engine or db.get_engine(settings.sqlalchemy_url)
    if not settings.embedded:
        if not db.is_at_head(engine):
            raise DatabaseNotReady(
                "The database named by DATABASE_URL is not on the newest schema. "
                "Run `dhu init-db` once, then restart the app."
            )
        return
    db.upgrade(engine)
    with engine.connect() as conn:
        empty = conn.execute(select(func.count()).select_from(Organisation)).scalar_one() == 0
    if empty:
        summary = demo.seed_demo(engine=engine)
        demo_logins.hand_out(
            summary.logins,
            database_url=engine.url.render_as_string(hide_password=False),
            settings=settings,
            echo=demo_logins.to_console,
        )
