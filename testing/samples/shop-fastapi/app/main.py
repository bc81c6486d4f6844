"""The shop's API: a catalogue served from memory, cached in Redis the way real ones are."""

from __future__ import annotations

import logging
import os

from fastapi import FastAPI

from app.routers import items

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "info").upper())

app = FastAPI(title="shop")
app.include_router(items.router, prefix="/items")


@app.get("/")
def index() -> dict[str, str]:
    return {"service": "shop"}


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}
