"""Shipping rates API: the price of sending a parcel between two postcodes.

A quote reads the customer's account through this process's one database connection (the
driver is not thread-safe, so queries take turns), asks the carrier's rate API (slow, but
calls overlap), and prices the parcel by delivery zone.
"""

from __future__ import annotations

import hashlib
import threading
import time

from flask import Flask, abort, jsonify, request

from rates import zones

ACCOUNT_QUERY_S = 0.014  # one query on the worker's single database connection
CARRIER_CALL_S = 0.060  # the carrier's rate API, from its dashboard's median

_connection = threading.Lock()  # one connection a process: one query at a time

ZONE_CENTS = (0, 450, 520, 610, 700, 820, 990, 1240, 1600)
TIERS = {"basic": 0.0, "business": 0.08, "partner": 0.15}


def account(key: str) -> dict:
    """The account row (stand-in: a query that holds the process's connection)."""
    with _connection:
        time.sleep(ACCOUNT_QUERY_S)
        digest = hashlib.sha256(key.encode()).digest()
    tier = ("basic", "business", "partner")[digest[0] % 3]
    return {"account": key, "tier": tier}


def carrier_surcharge(origin: str, destination: str) -> int:
    """The carrier's fuel and remote-area surcharge (stand-in: a slow upstream call)."""
    time.sleep(CARRIER_CALL_S)
    return 35 + _mix(origin, destination) % 90


def _mix(a: str, b: str) -> int:
    return int.from_bytes(hashlib.blake2s(f"{a}>{b}".encode(), digest_size=4).digest(), "big")


def price(zone: int, grams: int, surcharge: int, discount: float) -> dict:
    weight_cents = 60 * max(0, (grams - 500 + 499) // 500)
    net = round((ZONE_CENTS[zone] + weight_cents + surcharge) * (1 - discount))
    return {"net_cents": net, "vat_cents": round(net * 0.2), "total_cents": round(net * 1.2)}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    @app.get("/api/quote")
    def quote():
        origin = request.args.get("from", "")
        destination = request.args.get("to", "")
        grams = request.args.get("grams", 0, type=int)
        if not (origin.isdigit() and destination.isdigit()) or not 0 < grams <= 30_000:
            abort(400)
        who = account(request.headers.get("X-Account", "anonymous"))
        zone = max(zones.zone(origin), zones.zone(destination))
        surcharge = carrier_surcharge(origin, destination)
        body = price(zone, grams, surcharge, TIERS[who["tier"]])
        return jsonify(zone=zone, grams=grams, tier=who["tier"], **body)

    return app
