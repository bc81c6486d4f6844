import tempfile
import unittest
from pathlib import Path

from notes import parse_note
from notes.migrate import FOLDER, pending
from notes.settings import load


class ParseNoteTest(unittest.TestCase):
    def test_text_and_tags_are_cleaned(self) -> None:
        text, tags = parse_note({"text": "  buy milk ", "tags": ["Home", "home", " shop", ""]})
        self.assertEqual((text, tags), ("buy milk", ["home", "shop"]))

    def test_bad_bodies_are_refused(self) -> None:
        for body in (None, [], {"text": ""}, {"text": 3}, {"text": "x", "tags": "a"}):
            with self.assertRaises(ValueError):
                parse_note(body)


class SettingsTest(unittest.TestCase):
    def test_the_shipped_file_reads(self) -> None:
        settings = load({"DATABASE_URL": "postgresql://notes@db/notes"})
        self.assertGreaterEqual(settings.page_size, 1)
        self.assertGreaterEqual(settings.conn_max_age, 0)

    def test_the_database_url_is_required(self) -> None:
        with self.assertRaises(RuntimeError):
            load({})

    def test_another_file(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "s.toml"
            path.write_text("[database]\nconn_max_age = 30\n")
            settings = load({"DATABASE_URL": "x", "NOTES_SETTINGS": str(path)})
        self.assertEqual(settings.conn_max_age, 30.0)


class MigrationsTest(unittest.TestCase):
    def test_in_order_and_only_the_new_ones(self) -> None:
        names = [p.stem for p in pending(FOLDER, set())]
        self.assertEqual(names, sorted(names))
        self.assertEqual(pending(FOLDER, set(names)), [])
        self.assertEqual([p.stem for p in pending(FOLDER, set(names[:1]))], names[1:])


if __name__ == "__main__":
    unittest.main()
