from locust import HttpUser, task


class Reader(HttpUser):
    @task(4)
    def read(self) -> None:
        self.client.get("/notes")

    @task(1)
    def write(self) -> None:
        self.client.post("/notes", json={"text": "hello"})
