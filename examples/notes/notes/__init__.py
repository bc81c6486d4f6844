"""A notes API as many real services are written: Flask under gunicorn, PostgreSQL through
psycopg, settings from a file and the environment, migrations applied at start."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, abort, g, jsonify, request

from notes import settings as settings_module
from notes.db import Database

MAX_TEXT = 2000
MAX_TAGS = 8
NOTES = (  # notes with their tags; callers add WHERE, GROUP BY n.id, ORDER and LIMIT
    "SELECT n.id, n.text, n.created_at,"
    " COALESCE(array_agg(t.tag ORDER BY t.tag) FILTER (WHERE t.tag IS NOT NULL), '{}')"
    " FROM notes n LEFT JOIN note_tags t ON t.note_id = n.id"
)


def parse_note(payload: Any) -> tuple[str, list[str]]:
    """A note's text and tags from a request body; ValueError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("text"), str):
        raise ValueError('expected {"text": "...", "tags": [...]}')
    text = payload["text"].strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"text must have 1 to {MAX_TEXT} characters")
    tags = payload.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("tags must be a list of strings")
    return text, sorted({t.strip().lower() for t in tags if t.strip()})[:MAX_TAGS]


def create_app() -> Flask:
    settings = settings_module.load()
    app = Flask(__name__)
    app.debug = settings.debug  # Flask pretty-prints JSON in debug mode
    logging.basicConfig(level=logging.DEBUG if settings.debug else logging.INFO)
    database = Database(settings)

    def db() -> Any:
        if "db" not in g:
            g.db = database.acquire()
        return g.db

    def query(sql: str, *params: Any) -> list[Any]:
        return database.query(db(), sql, params)

    @app.teardown_request
    def release(error: BaseException | None) -> None:
        conn = g.pop("db", None)
        if conn is not None:
            database.release(conn, failed=error is not None)

    @app.get("/health")
    def health() -> Any:
        query("SELECT 1")
        return {"status": "ok"}

    @app.get("/notes")
    def list_notes() -> Any:
        rows = query(f"{NOTES} GROUP BY n.id ORDER BY n.id DESC LIMIT %s", settings.page_size)
        return jsonify([_note(row) for row in rows])

    @app.get("/notes/<int:note_id>")
    def get_note(note_id: int) -> Any:
        rows = query(f"{NOTES} WHERE n.id = %s GROUP BY n.id", note_id)
        if not rows:
            abort(404)
        return jsonify(_note(rows[0]))

    @app.post("/notes")
    def add_note() -> Any:
        try:
            text, tags = parse_note(request.get_json(silent=True))
        except ValueError as exc:
            return {"error": str(exc)}, 400
        (note_id,) = query("INSERT INTO notes (text) VALUES (%s) RETURNING id", text)[0]
        for tag in tags:
            query("INSERT INTO note_tags (note_id, tag) VALUES (%s, %s)", note_id, tag)
        return {"id": note_id, "text": text, "tags": tags}, 201

    @app.get("/tags")
    def list_tags() -> Any:
        rows = query("SELECT tag, count(*) FROM note_tags GROUP BY tag ORDER BY 2 DESC LIMIT 50")
        return jsonify({tag: count for tag, count in rows})

    return app


def _note(row: Any) -> dict[str, Any]:
    note_id, text, created_at, tags = row
    return {"id": note_id, "text": text, "created_at": created_at.isoformat(), "tags": tags}
