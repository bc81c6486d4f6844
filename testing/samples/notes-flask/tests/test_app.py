import os
import unittest

os.environ["DATABASE_URL"] = "sqlite:///:memory:"

from notes import create_app


class NotesTest(unittest.TestCase):
    def test_health(self) -> None:
        self.assertEqual(create_app().test_client().get("/health").status_code, 200)


if __name__ == "__main__":
    unittest.main()
