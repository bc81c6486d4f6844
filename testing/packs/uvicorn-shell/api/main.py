"""A FastAPI quotes service."""

import asyncio

from fastapi import FastAPI, HTTPException

app = FastAPI(title="quotes")
QUOTES = {1: "Simple is better than complex.", 2: "Readability counts."}


@app.get("/health")
async def health() -> dict[str, bool]:
    return {"ok": True}


@app.get("/quotes/{quote_id}")
async def quote(quote_id: int) -> dict[str, str]:
    await asyncio.sleep(0.005)  # the database round trip of the real service
    if quote_id not in QUOTES:
        raise HTTPException(status_code=404)
    return {"quote": QUOTES[quote_id]}
