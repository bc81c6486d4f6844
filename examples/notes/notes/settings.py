"""Settings: config/settings.toml (another file with NOTES_SETTINGS), the database's address from
DATABASE_URL."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "settings.toml"


@dataclass(frozen=True)
class Settings:
    database_url: str
    debug: bool = False
    page_size: int = 20
    conn_max_age: float = 0.0  # seconds a connection is reused; 0: one per request
    connect_timeout: int = 5


def load(environ: Mapping[str, str] = os.environ) -> Settings:
    path = Path(environ.get("NOTES_SETTINGS") or DEFAULT_FILE)
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    app, database = data.get("app", {}), data.get("database", {})
    url = environ.get("DATABASE_URL")
    if not url:
        raise RuntimeError("DATABASE_URL is not set: the notes service needs its database")
    return Settings(
        database_url=url,
        debug=bool(app.get("debug", False)),
        page_size=max(1, int(app.get("page_size", 20))),
        conn_max_age=max(0.0, float(database.get("conn_max_age", 0))),
        connect_timeout=max(1, int(database.get("connect_timeout", 5))),
    )
