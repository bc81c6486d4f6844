from locust import HttpUser, task


class Buyer(HttpUser):
    @task
    def price(self) -> None:
        self.client.get("/prices/2")
