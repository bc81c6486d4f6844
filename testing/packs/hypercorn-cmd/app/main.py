"""An events API on Quart: reads are cheap, writes wait on a slow upstream."""

import asyncio

from quart import Quart, jsonify

app = Quart(__name__)
EVENTS: list[dict[str, str]] = []


@app.get("/health")
async def health() -> str:
    return "ok"


@app.get("/events")
async def events():
    return jsonify(EVENTS[-50:])


@app.post("/events")
async def publish():
    await asyncio.sleep(0.02)  # the upstream broker's acknowledgement
    EVENTS.append({"id": str(len(EVENTS) + 1)})
    return jsonify(EVENTS[-1]), 201
