from app.main import app
from fastapi.testclient import TestClient

client = TestClient(app)


def test_health() -> None:
    assert client.get("/healthz").status_code == 200


def test_item() -> None:
    assert client.get("/items/3").json()["name"] == "item 3"
