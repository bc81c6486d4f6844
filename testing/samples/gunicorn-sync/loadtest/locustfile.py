import random
import uuid

from locust import FastHttpUser, task


class Shopper(FastHttpUser):
    @task(3)
    def browse(self) -> None:
        self.client.get(f"/api/items?page={random.randint(1, 10)}", name="/api/items")

    @task(5)
    def item(self) -> None:
        sku = f"SKU-{random.randint(1, 1400):04d}"
        self.client.get(f"/api/items/{sku}", name="/api/items/[sku]")

    @task(2)
    def quote(self) -> None:
        sku = f"SKU-{random.randint(1, 1400):04d}"
        self.client.get(
            f"/api/items/{sku}/quote?qty={random.randint(1, 80)}",
            name="/api/items/[sku]/quote",
            headers={"X-Request-ID": uuid.uuid4().hex},
        )
