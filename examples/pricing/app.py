"""Pricing service: the mutbot example target.

Settings come from config/server.ini and are deliberately mistuned
(see README.md). Standard library only.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import re
import signal
import sys
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from threading import Lock
from typing import Any
from urllib.parse import parse_qs, urlsplit

CONFIG_PATH = Path(__file__).resolve().parent / "config" / "server.ini"
# Rounds of SHA-256 per uncached price: about 4-5 ms of CPU on a typical core.
HASH_ROUNDS = 10_000
# Rounds per response signature: about 2 ms of CPU that no cache can skip,
# so a well-tuned server is bounded by its CPU, not by the load generator.
SIGN_ROUNDS = 4_000
# Live stock lookup on every request: prices may be cached, stock levels may not.
STOCK_CHECK_MS = 5
SKU_RE = re.compile(r"[A-Za-z0-9-]{1,32}")
QTY_RE = re.compile(r"[0-9]{1,4}")  # ASCII only: str.isdigit() accepts "²"
MAX_QTY = 1000


@dataclass(frozen=True)
class Settings:
    threads: int = 1
    cache_size: int = 0
    log_requests: bool = True
    downstream_ms: int = 20
    currency_decimals: int = 2


def load_settings(path: Path = CONFIG_PATH) -> Settings:
    parser = configparser.ConfigParser()
    if not parser.read(path):
        raise FileNotFoundError(path)
    s = parser["server"]
    return Settings(
        threads=max(1, s.getint("threads", 1)),
        cache_size=max(0, s.getint("cache_size", 0)),
        log_requests=s.getboolean("log_requests", True),
        downstream_ms=max(0, s.getint("downstream_ms", 20)),
        currency_decimals=max(0, s.getint("currency_decimals", 2)),
    )


def compute_price(sku: str, qty: int, settings: Settings) -> dict[str, Any]:
    """Price `qty` units of `sku`: CPU work plus a simulated downstream wait."""
    digest = sku.encode()
    for _ in range(HASH_ROUNDS):  # stands in for a pricing model; holds the GIL
        digest = hashlib.sha256(digest).digest()
    time.sleep(settings.downstream_ms / 1000)  # stands in for a DB call; releases the GIL

    unit = Decimal(1 + int.from_bytes(digest[:4], "big") % 10_000) / 100
    discount = Decimal("0.10") if qty >= 10 else Decimal(0)
    quantum = Decimal(1).scaleb(-settings.currency_decimals)
    unit_r = unit.quantize(quantum, ROUND_HALF_UP)
    total = (unit * qty * (1 - discount)).quantize(quantum, ROUND_HALF_UP)
    # Strings keep trailing zeros, so the wire format shows the exact rounding.
    return {
        "sku": sku,
        "qty": qty,
        "currency": "USD",
        "unit_price": str(unit_r),
        "discount": str(discount),
        "price": str(total),
    }


def sign(payload: bytes) -> str:
    """Iterated-hash signature sent with every JSON response (stands in for auth/crypto)."""
    digest = payload
    for _ in range(SIGN_ROUNDS):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:32]


def stock_level(sku: str) -> int:
    """Simulated live inventory call: a short blocking wait, never cached."""
    time.sleep(STOCK_CHECK_MS / 1000)
    return 100 + zlib.crc32(sku.encode()) % 400


class PriceCache:
    """Thread-safe LRU of computed prices; size 0 disables it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()
        self._lock = Lock()

    def get_or_compute(
        self, key: tuple[str, int], compute: Callable[[], dict[str, Any]]
    ) -> dict[str, Any]:
        if self.size == 0:
            return compute()
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
        value = compute()  # outside the lock so misses run in parallel
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        return value


class PriceHandler(BaseHTTPRequestHandler):
    server_version = "pricing/1.0"
    settings: Settings
    cache: PriceCache

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/healthz":
            self._send(200, b"ok", "text/plain")
        elif url.path == "/price":
            self._price(parse_qs(url.query))
        else:
            self._json(404, {"error": "not found"})

    def _price(self, query: dict[str, list[str]]) -> None:
        sku = query.get("sku", [""])[0]
        qty_raw = query.get("qty", [""])[0]
        if not SKU_RE.fullmatch(sku):
            self._json(400, {"error": "sku must be 1-32 letters, digits or '-'"})
            return
        if not QTY_RE.fullmatch(qty_raw) or not 1 <= int(qty_raw) <= MAX_QTY:
            self._json(400, {"error": f"qty must be an integer from 1 to {MAX_QTY}"})
            return
        qty = int(qty_raw)
        body = self.cache.get_or_compute((sku, qty), lambda: compute_price(sku, qty, self.settings))
        self._json(200, {**body, "in_stock": qty <= stock_level(sku)})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self._send(status, payload, "application/json", {"X-Signature": sign(payload)})

    def _send(
        self, status: int, payload: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        if self.settings.log_requests:
            sys.stderr.write(
                f"{self.address_string()} - [{self.log_date_time_string()}] {format % args}\n"
            )
            sys.stderr.flush()


class PricingHTTPServer(HTTPServer):
    # A deep accept queue so waiting clients queue instead of retrying their SYNs.
    request_queue_size = 128


class PooledHTTPServer(PricingHTTPServer):
    """Server that hands each connection to a bounded pool of worker threads."""

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], workers: int
    ) -> None:
        super().__init__(address, handler)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="worker")

    def process_request(self, request: Any, client_address: Any) -> None:
        self._pool.submit(self._work, request, client_address)

    def _work(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)


def make_server(settings: Settings, host: str = "0.0.0.0", port: int = 8080) -> HTTPServer:
    handler = type(
        "Handler", (PriceHandler,), {"settings": settings, "cache": PriceCache(settings.cache_size)}
    )
    if settings.threads == 1:
        return PricingHTTPServer((host, port), handler)
    return PooledHTTPServer((host, port), handler, settings.threads)


def main() -> None:
    settings = load_settings()
    server = make_server(settings, port=int(os.environ.get("PORT", "8080")))
    # As PID 1 in a container, SIGTERM is ignored unless handled.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"pricing listening on :{server.server_address[1]} with {settings}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
