"""Create the schema and a few rows; safe to run on every start."""

from sqlalchemy import create_engine, text

engine = create_engine("sqlite:////tmp/inventory.db")
with engine.begin() as conn:
    conn.execute(text("CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, name TEXT)"))
    conn.execute(text("INSERT OR IGNORE INTO items (id, name) VALUES (1, 'bolt'), (2, 'nut')"))
