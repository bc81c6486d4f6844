"""Load for the notes service: mostly reads of the latest notes and of single notes, some
writes, the way a notes app is used."""

import random

from locust import HttpUser, between, task

WORDS = ["milk", "eggs", "call", "mum", "book", "flights", "renew", "passport", "water"]
TAGS = ["home", "work", "shop", "travel", "later"]


class Writer(HttpUser):
    wait_time = between(0.05, 0.15)

    def on_start(self) -> None:
        self.mine: list[int] = []
        self.write()

    @task(6)
    def latest(self) -> None:
        self.client.get("/notes")

    @task(3)
    def one(self) -> None:
        if self.mine:
            self.client.get(f"/notes/{random.choice(self.mine)}", name="/notes/[id]")

    @task(1)
    def write(self) -> None:
        body = {"text": " ".join(random.sample(WORDS, 4)), "tags": random.sample(TAGS, 2)}
        with self.client.post("/notes", json=body, catch_response=True) as response:
            if response.status_code == 201:
                self.mine.append(response.json()["id"])
                response.success()
