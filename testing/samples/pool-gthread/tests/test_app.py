import unittest

import rates
from rates import zones


class RatesTest(unittest.TestCase):
    def setUp(self) -> None:
        zones.load(megabytes=1)
        self.waits = rates.ACCOUNT_QUERY_S, rates.CARRIER_CALL_S
        rates.ACCOUNT_QUERY_S = rates.CARRIER_CALL_S = 0.0
        self.client = rates.create_app().test_client()

    def tearDown(self) -> None:
        rates.ACCOUNT_QUERY_S, rates.CARRIER_CALL_S = self.waits

    def test_health(self) -> None:
        self.assertEqual(self.client.get("/healthz").json, {"status": "ok"})

    def test_quote(self) -> None:
        body = self.client.get(
            "/api/quote?from=75001&to=10115&grams=2500", headers={"X-Account": "acct-7"}
        ).json
        self.assertEqual(body["grams"], 2500)
        self.assertIn(body["zone"], range(1, zones.ZONES + 1))
        self.assertEqual(body["total_cents"], round(body["net_cents"] * 1.2))

    def test_same_question_same_answer(self) -> None:
        url = "/api/quote?from=01000&to=99999&grams=700"
        self.assertEqual(self.client.get(url).json, self.client.get(url).json)

    def test_bad_requests(self) -> None:
        for query in ("from=abc&to=10115&grams=10", "from=1&to=2&grams=0", "from=1&to=2"):
            self.assertEqual(self.client.get(f"/api/quote?{query}").status_code, 400)

    def test_heavier_costs_more(self) -> None:
        light, heavy = (
            self.client.get(f"/api/quote?from=12345&to=54321&grams={g}").json for g in (400, 9000)
        )
        self.assertGreater(heavy["net_cents"], light["net_cents"])

    def test_every_page_is_written(self) -> None:
        table = zones._table
        assert table is not None
        self.assertTrue(all(table[o] for o in range(0, len(table), zones.PAGE)))


if __name__ == "__main__":
    unittest.main()
