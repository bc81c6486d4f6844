import random

from locust import FastHttpUser, task


class Shipper(FastHttpUser):
    @task
    def quote(self) -> None:
        origin, destination = (f"{random.randint(1000, 99999):05d}" for _ in range(2))
        self.client.get(
            f"/api/quote?from={origin}&to={destination}&grams={random.randint(100, 20000)}",
            name="/api/quote",
            headers={"X-Account": f"acct-{random.randint(1, 500)}"},
        )
