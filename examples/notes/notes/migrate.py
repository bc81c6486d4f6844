"""Apply the SQL files in migrations/ that the database has not seen yet, in name order, each in
its own transaction; run at start by docker-entrypoint.sh. Waits for the database a little."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import psycopg

from notes import settings as settings_module

FOLDER = Path(__file__).resolve().parents[1] / "migrations"
WAIT = 20.0  # seconds to wait for the database to accept connections


def pending(folder: Path, applied: set[str]) -> list[Path]:
    return sorted(p for p in folder.glob("*.sql") if p.stem not in applied)


def connect(url: str) -> psycopg.Connection[tuple[object, ...]]:
    deadline = time.monotonic() + WAIT
    while True:
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=5, client_encoding="utf8")
        except psycopg.OperationalError as exc:
            print(f"migrate: waiting for the database: {exc}".strip(), file=sys.stderr, flush=True)
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def main() -> int:
    settings = settings_module.load()
    with connect(settings.database_url) as conn:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        applied = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        todo = pending(FOLDER, applied)
        for path in todo:
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
                conn.execute("INSERT INTO schema_migrations (name) VALUES (%s)", (path.stem,))
        (count,) = conn.execute("SELECT count(*) FROM notes").fetchone() or (0,)
    names = ", ".join(p.stem for p in todo) or "none"
    print(f"migrate: applied {len(todo)} ({names}); {len(applied)} already; notes: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
