from locust import HttpUser, task


class Reader(HttpUser):
    @task
    def quote(self) -> None:
        self.client.get("/quotes/1")
