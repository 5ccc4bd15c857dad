"""Settings read from the environment."""

from functools import cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class Settings(BaseSettings):
    """Runtime settings; every field can be set by an environment variable of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    database_url: str | None = None
    dhu_data_dir: Path = DATA_DIR
    dhu_cookie_key: str | None = None

    @property
    def embedded(self) -> bool:
        """True when no DATABASE_URL is given and the embedded SQLite file is used."""
        return not self.database_url

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.dhu_data_dir / 'dhu.sqlite3'}"


def normalise_database_url(url: str) -> str:
    """Accept the common `postgres://` and `postgresql://` spellings and use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
