"""The shop's Flask application factory."""

from flask import Flask

PRICES = {1: 9.5, 2: 12.0, 3: 3.25}


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/prices/<int:product>")
    def price(product: int) -> dict[str, float]:
        return {"price": PRICES.get(product, 0.0)}

    return app
