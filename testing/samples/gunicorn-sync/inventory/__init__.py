"""Inventory API: a small in-memory catalogue with stock levels and price quotes."""

from __future__ import annotations

import hashlib

from flask import Flask, abort, jsonify, request

ITEMS = [
    {
        "sku": f"SKU-{n:04d}",
        "name": f"Item {n}",
        "price_cents": 199 + (n * 37) % 5000,
        "stock": (n * 13) % 90,
        "tags": ["tools" if n % 3 else "garden", "sale" if n % 7 == 0 else "regular"],
    }
    for n in range(1, 1401)
]
BY_SKU = {item["sku"]: item for item in ITEMS}
PAGE = 20
TIERS = (1, 10, 50)  # the volume prices shown on an item page


def quote(item: dict, quantity: int) -> dict:
    """Volume discount, tax, and a cache key for the quote (a little CPU)."""
    unit = item["price_cents"]
    discount = 0.10 if quantity >= 50 else 0.05 if quantity >= 10 else 0.0
    net = round(unit * quantity * (1 - discount))
    tax = round(net * 0.2)
    key = hashlib.sha256(f"{item['sku']}:{quantity}:{net}".encode()).hexdigest()[:16]
    return {
        "sku": item["sku"],
        "quantity": quantity,
        "net_cents": net,
        "tax_cents": tax,
        "quote_id": key,
    }


def related(item: dict, count: int = 4) -> list[str]:
    """Items sharing a tag, closest in price first: a scan of the catalogue."""
    tags = set(item["tags"])
    others = [i for i in ITEMS if i is not item and tags.intersection(i["tags"])]
    others.sort(key=lambda i: abs(i["price_cents"] - item["price_cents"]))
    return [i["sku"] for i in others[:count]]


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/items")
    def items():
        page = max(1, request.args.get("page", 1, type=int))
        order = request.args.get("sort", "price")
        listed = sorted(
            ITEMS, key=lambda i: (i["price_cents"], i["sku"]) if order == "price" else i["sku"]
        )
        start = (page - 1) * PAGE
        return jsonify(page=page, items=listed[start : start + PAGE], total=len(listed))

    @app.get("/api/items/<sku>")
    def item(sku: str):
        found = BY_SKU.get(sku)
        if found is None:
            abort(404)
        tiers = [quote(found, quantity) for quantity in TIERS]
        return jsonify(item=found, tiers=tiers, related=related(found), in_stock=found["stock"] > 0)

    @app.get("/api/items/<sku>/quote")
    def item_quote(sku: str):
        found = BY_SKU.get(sku)
        if found is None:
            abort(404)
        quantity = max(1, min(1000, request.args.get("qty", 1, type=int)))
        return jsonify(quote(found, quantity))

    return app
