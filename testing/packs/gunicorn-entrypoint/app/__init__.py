"""A small Flask inventory service."""

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

app = Flask(__name__)
engine = create_engine("sqlite:////tmp/inventory.db")


@app.get("/healthz")
def health():
    return {"ok": True}


@app.get("/items/<int:item_id>")
def item(item_id: int):
    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, name FROM items WHERE id = :id"), {"id": item_id})
        found = row.first()
    if found is None:
        return jsonify(error="not found"), 404
    return jsonify(id=found.id, name=found.name)
