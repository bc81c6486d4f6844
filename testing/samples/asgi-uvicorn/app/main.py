"""Rates API: converts amounts between currencies from an in-memory rate table."""

from __future__ import annotations

import os
import statistics

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BASE = os.environ.get("RATES_BASE", "EUR")
# Units of each currency per 1 EUR; a daily history for the summary route.
RATES = {"EUR": 1.0, "USD": 1.08, "GBP": 0.85, "JPY": 162.3, "CHF": 0.95, "SEK": 11.4}
HISTORY = {
    code: [rate * (1 + ((day * 7919) % 41 - 20) / 1000) for day in range(90)]
    for code, rate in RATES.items()
}


def convert(amount: float, source: str, target: str) -> float:
    return round(amount / RATES[source] * RATES[target], 4)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def rates(request: Request) -> JSONResponse:
    return JSONResponse({"base": BASE, "rates": {c: convert(1, BASE, c) for c in RATES}})


async def conversion(request: Request) -> JSONResponse:
    source = request.query_params.get("from", "EUR").upper()
    target = request.query_params.get("to", "USD").upper()
    if source not in RATES or target not in RATES:
        return JSONResponse({"error": "unknown currency"}, status_code=404)
    try:
        amount = float(request.query_params.get("amount", "1"))
    except ValueError:
        return JSONResponse({"error": "amount must be a number"}, status_code=422)
    return JSONResponse(
        {"from": source, "to": target, "amount": amount, "result": convert(amount, source, target)}
    )


async def summary(request: Request) -> JSONResponse:
    code = request.path_params["code"].upper()
    if code not in HISTORY:
        return JSONResponse({"error": "unknown currency"}, status_code=404)
    days = HISTORY[code]
    return JSONResponse(
        {
            "code": code,
            "mean": round(statistics.fmean(days), 4),
            "stdev": round(statistics.stdev(days), 4),
            "low": min(days),
            "high": max(days),
        }
    )


app = Starlette(
    routes=[
        Route("/health", health),
        Route("/v1/rates", rates),
        Route("/v1/convert", conversion),
        Route("/v1/summary/{code}", summary),
    ]
)
