"""Contract tests for the pricing service (stdlib unittest, runs in about a second)."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import threading
import unittest
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import app

TWO_DECIMALS = re.compile(r"^\d+\.\d{2}$")  # anchored: assertRegex searches


class PriceFunctionTest(unittest.TestCase):
    def setUp(self) -> None:
        self.settings = app.load_settings()  # the real config/server.ini

    def test_prices_have_exactly_two_decimals(self) -> None:
        for sku, qty in [("SKU-001", 1), ("SKU-002", 3), ("SKU-010", 12)]:
            body = app.compute_price(sku, qty, self.settings)
            self.assertRegex(body["price"], TWO_DECIMALS)
            self.assertRegex(body["unit_price"], TWO_DECIMALS)

    def test_deterministic_and_discounted(self) -> None:
        one = app.compute_price("SKU-003", 1, self.settings)
        self.assertEqual(one, app.compute_price("SKU-003", 1, self.settings))
        bulk = app.compute_price("SKU-003", 10, self.settings)
        self.assertEqual(bulk["discount"], "0.10")
        self.assertLess(float(bulk["price"]), 10 * float(one["unit_price"]))


class ServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        settings = app.load_settings()
        quiet = dataclasses.replace(settings, log_requests=False)
        cls.server = app.make_server(quiet, host="127.0.0.1", port=0)
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"
        cls.thread = threading.Thread(target=cls.server.serve_forever, args=(0.05,), daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.server.server_close()

    def get(self, path: str) -> tuple[int, str, bytes]:
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as r:
                status, headers, raw = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, headers, raw = e.code, e.headers, e.read()
        if headers["Content-Type"] == "application/json":
            self.assertEqual(headers["X-Signature"], app.sign(raw))
        return status, headers["Content-Type"], raw

    def test_health(self) -> None:
        self.assertEqual(self.get("/healthz")[::2], (200, b"ok"))

    def test_price_json(self) -> None:
        status, ctype, raw = self.get("/price?sku=SKU-007&qty=3")
        self.assertEqual((status, ctype), (200, "application/json"))
        body = json.loads(raw)
        self.assertEqual(
            set(body), {"sku", "qty", "currency", "unit_price", "discount", "price", "in_stock"}
        )
        self.assertEqual((body["sku"], body["qty"], body["currency"]), ("SKU-007", 3, "USD"))
        self.assertRegex(body["price"], TWO_DECIMALS)
        self.assertIs(body["in_stock"], True)
        self.assertEqual(json.loads(self.get("/price?sku=SKU-007&qty=3")[2]), body)

    def test_bad_input_is_400(self) -> None:
        for path in [
            "/price",
            "/price?sku=SKU-1",
            "/price?sku=SKU-1&qty=0",
            "/price?sku=SKU-1&qty=abc",
            "/price?sku=bad%20sku&qty=1",
            "/price?sku=SKU-1&qty=100000",
            "/price?sku=SKU-1&qty=%C2%B2",
        ]:
            status, ctype, raw = self.get(path)
            self.assertEqual((status, ctype), (400, "application/json"), path)
            self.assertIn("error", json.loads(raw))

    def test_unknown_path_is_404(self) -> None:
        self.assertEqual(self.get("/nope")[0], 404)


if __name__ == "__main__":
    unittest.main()
