import random

from locust import FastHttpUser, task

CODES = ["EUR", "USD", "GBP", "JPY", "CHF", "SEK"]


class Client(FastHttpUser):
    @task(5)
    def convert(self) -> None:
        source, target = random.sample(CODES, 2)
        amount = random.randint(1, 5000)
        self.client.get(
            f"/v1/convert?from={source}&to={target}&amount={amount}", name="/v1/convert"
        )

    @task(2)
    def rates(self) -> None:
        self.client.get("/v1/rates")

    @task(1)
    def summary(self) -> None:
        self.client.get(f"/v1/summary/{random.choice(CODES)}", name="/v1/summary/[code]")
