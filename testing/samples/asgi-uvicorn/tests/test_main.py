import unittest

from app.main import HISTORY, RATES, convert


class ConvertTest(unittest.TestCase):
    def test_round_trip(self) -> None:
        self.assertAlmostEqual(convert(convert(100, "EUR", "USD"), "USD", "EUR"), 100, places=2)

    def test_tables_agree(self) -> None:
        self.assertEqual(set(HISTORY), set(RATES))
        self.assertTrue(all(len(days) == 90 for days in HISTORY.values()))


if __name__ == "__main__":
    unittest.main()
