from locust import HttpUser, task


class Clerk(HttpUser):
    @task
    def item(self) -> None:
        self.client.get("/items/1")
