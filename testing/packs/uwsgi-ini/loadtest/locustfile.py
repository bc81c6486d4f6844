from locust import HttpUser, task


class Shopper(HttpUser):
    @task
    def product(self) -> None:
        self.client.get("/products/1")
