from locust import HttpUser, task


class Visitor(HttpUser):
    @task
    def lookup(self) -> None:
        self.client.get("/zone/1017", name="/zone/[code]")
