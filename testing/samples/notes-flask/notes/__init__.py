"""A small notes API in the shape of many real Flask services: an app factory, settings from the
environment, SQLite by default and PostgreSQL when DATABASE_URL says so."""

from __future__ import annotations

import os
import sqlite3
from typing import Any

from flask import Flask, g, jsonify, request


def _connect(url: str) -> Any:
    if url.startswith("postgresql://"):
        import psycopg  # only in the compose deployment

        return psycopg.connect(url, client_encoding="utf8")  # text as str, as Django does
    return sqlite3.connect(url.removeprefix("sqlite:///") or ":memory:")


def _sql(conn: Any, query: str) -> str:
    """sqlite3 takes `?` placeholders and INTEGER PRIMARY KEY, psycopg `%s` and SERIAL."""
    if isinstance(conn, sqlite3.Connection):
        return query
    return query.replace("?", "%s").replace("INTEGER PRIMARY KEY", "SERIAL PRIMARY KEY")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config["DATABASE_URL"] = os.environ.get("DATABASE_URL", "sqlite:////tmp/notes.db")
    app.config["PAGE_SIZE"] = int(os.environ.get("PAGE_SIZE", "20"))

    def db() -> Any:
        if "db" not in g:
            g.db = _connect(app.config["DATABASE_URL"])
            g.db.execute(
                _sql(g.db, "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT)")
            )
            g.db.commit()
        return g.db

    @app.teardown_appcontext
    def close(_: object) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            conn.close()

    @app.get("/health")
    def health() -> Any:
        return {"status": "ok"}

    @app.get("/notes")
    def list_notes() -> Any:
        conn = db()
        rows = conn.execute(
            _sql(conn, "SELECT id, text FROM notes ORDER BY id DESC LIMIT ?"),
            (app.config["PAGE_SIZE"],),
        )
        return jsonify([{"id": r[0], "text": r[1]} for r in rows])

    @app.post("/notes")
    def add_note() -> Any:
        text = str((request.get_json(silent=True) or {}).get("text", ""))[:500]
        conn = db()
        conn.execute(_sql(conn, "INSERT INTO notes (text) VALUES (?)"), (text,))
        conn.commit()
        return {"ok": True}, 201

    return app
