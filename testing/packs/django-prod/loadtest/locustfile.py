from locust import HttpUser, task


class Reader(HttpUser):
    @task
    def article(self) -> None:
        self.client.get("/articles/1")
