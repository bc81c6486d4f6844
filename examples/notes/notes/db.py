"""The database: a connection for each request, or one kept per thread for conn_max_age seconds
(as Django's CONN_MAX_AGE). In debug mode every statement is logged with its timing."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from notes.settings import Settings

log = logging.getLogger("notes.sql")


class Database:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._kept = threading.local()

    def connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(
            self.settings.database_url,
            autocommit=True,
            connect_timeout=self.settings.connect_timeout,
            client_encoding="utf8",  # as Django does: text is str whatever the server's default
        )

    def acquire(self) -> psycopg.Connection[Any]:
        """The connection for the request that starts now."""
        if self.settings.conn_max_age <= 0:
            return self.connect()
        conn = getattr(self._kept, "conn", None)
        too_old = time.monotonic() - getattr(self._kept, "opened", 0.0) > self.settings.conn_max_age
        if conn is None or conn.closed or conn.broken or too_old:
            if conn is not None:
                conn.close()
            conn = self._kept.conn = self.connect()
            self._kept.opened = time.monotonic()
        return conn

    def release(self, conn: psycopg.Connection[Any], failed: bool) -> None:
        """At the end of the request: close it, unless it is kept (and still sound)."""
        kept = getattr(self._kept, "conn", None) is conn
        if not kept or failed:
            conn.close()
            if kept:
                self._kept.conn = None

    def query(
        self, conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...] = ()
    ) -> list[Any]:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall() if cursor.description else []
        if self.settings.debug:
            took = (time.perf_counter() - started) * 1000
            log.debug("%.2f ms  %s  %r", took, " ".join(sql.split()), params)
        return rows
