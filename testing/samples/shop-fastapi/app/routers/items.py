"""Items: listed, looked up and searched, each answer cached in Redis for CACHE_TTL_SECONDS."""

from __future__ import annotations

import json
import os
from typing import Any

import redis
from fastapi import APIRouter, HTTPException

router = APIRouter()
_cache = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://localhost:6379/0"))
_TTL = int(os.environ.get("CACHE_TTL_SECONDS", "0"))
ITEMS = [{"id": n, "name": f"item {n}", "price": round(n * 1.25, 2)} for n in range(1, 201)]


def _cached(key: str, compute: Any) -> Any:
    if _TTL > 0:
        hit = _cache.get(key)
        if hit is not None:
            return json.loads(hit)
    value = compute()
    if _TTL > 0:
        _cache.setex(key, _TTL, json.dumps(value))
    return value


@router.get("")
def list_items(limit: int = 50) -> list[dict[str, Any]]:
    return _cached(f"items:{limit}", lambda: ITEMS[:limit])


@router.get("/featured")
def featured() -> list[dict[str, Any]]:
    return _cached("featured", lambda: sorted(ITEMS, key=lambda i: -i["price"])[:10])


@router.get("/search")
def search(q: str) -> list[dict[str, Any]]:
    return [i for i in ITEMS if q.lower() in str(i["name"])]


@router.get("/{item_id}")
def get_item(item_id: int) -> dict[str, Any]:
    if not 1 <= item_id <= len(ITEMS):
        raise HTTPException(status_code=404, detail="no such item")
    return ITEMS[item_id - 1]
