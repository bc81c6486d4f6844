from locust import HttpUser, task


class Reader(HttpUser):
    @task
    def events(self) -> None:
        self.client.get("/events")
