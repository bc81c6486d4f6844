"""Postcode lookup: answers from a precomputed table when the image has it, otherwise works the
answer out on every request (the slow path a missing data file falls back to). Every answer is
signed, which costs about a millisecond; working one out costs about five more."""

import hashlib
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

TABLE = Path(__file__).with_name("table.json")
LOOKUP = json.loads(TABLE.read_text()) if TABLE.exists() else None


def stretch(text: str, rounds: int) -> str:
    digest = text.encode()
    for _ in range(rounds):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:8]


def work_out(code: str) -> str:
    return stretch(code, 20_000)  # what table.json saves every request


def sign(answer: str) -> str:
    return stretch(answer, 4_000)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/healthz":
            body = b"ok"
        else:
            code = self.path.rsplit("/", 1)[-1] or "0"
            found = LOOKUP.get(code) if LOOKUP is not None else None
            zone = found or work_out(code)
            body = json.dumps({"code": code, "zone": zone, "sig": sign(zone)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "8000"))
    ThreadingHTTPServer(("0.0.0.0", port), Handler).serve_forever()
