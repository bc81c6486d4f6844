"""Load for the pricing service: 20 users hammering a small, cache-friendly set of SKUs."""

import random

from locust import HttpUser, constant, task

SKUS = [f"SKU-{i:03d}" for i in range(1, 11)]
QTYS = [1, 3, 12]


class Shopper(HttpUser):
    wait_time = constant(0)

    @task
    def price(self) -> None:
        sku, qty = random.choice(SKUS), random.choice(QTYS)
        self.client.get(f"/price?sku={sku}&qty={qty}", name="/price")
