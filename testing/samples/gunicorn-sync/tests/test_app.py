import unittest

from inventory import create_app


class InventoryTest(unittest.TestCase):
    def setUp(self) -> None:
        self.client = create_app().test_client()

    def test_health(self) -> None:
        self.assertEqual(self.client.get("/healthz").json, {"status": "ok"})

    def test_pages(self) -> None:
        body = self.client.get("/api/items?page=2").json
        self.assertEqual(body["page"], 2)
        self.assertEqual(len(body["items"]), 20)
        prices = [i["price_cents"] for i in body["items"]]
        self.assertEqual(prices, sorted(prices))

    def test_quote_discount(self) -> None:
        body = self.client.get("/api/items/SKU-0001/quote?qty=10").json
        self.assertEqual(body["net_cents"], round(236 * 10 * 0.95))

    def test_unknown_item(self) -> None:
        self.assertEqual(self.client.get("/api/items/nope").status_code, 404)

    def test_item_tiers(self) -> None:
        body = self.client.get("/api/items/SKU-0002").json
        self.assertEqual([t["quantity"] for t in body["tiers"]], [1, 10, 50])


if __name__ == "__main__":
    unittest.main()
