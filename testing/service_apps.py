"""A tiny stdlib web app that needs a database, for the Docker backend's services tests.

At start-up it writes one row (Postgres) or one key (Redis) and remembers how many it saw,
through a raw socket (no client library, so its image builds offline): a fresh database always
says 1. `/info` answers what the container was given: argv, environment, the build argument
baked into greeting.txt, and that count."""

from __future__ import annotations

from pathlib import Path

STORE = '''\
"""Write one row or key to the STORE service and print how many there are."""
import os
import socket
import struct

KIND = os.environ.get("STORE", "")
HOST = os.environ.get("STORE_HOST", {"postgres": "db", "redis": "cache"}.get(KIND, ""))


def _read(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the database closed the connection")
        data += chunk
    return data


def postgres(sql):
    """The simple query protocol with trust authentication: the first column of each row."""
    with socket.create_connection((HOST, 5432), timeout=10) as sock:
        params = b"user\\0postgres\\0database\\0postgres\\0\\0"
        sock.sendall(struct.pack("!ii", 8 + len(params), 196608) + params)
        rows, sent = [], False
        while True:
            kind = _read(sock, 1)
            body = _read(sock, struct.unpack("!i", _read(sock, 4))[0] - 4)
            if kind == b"E":
                raise RuntimeError(body.decode(errors="replace"))
            if kind == b"R" and struct.unpack("!i", body[:4])[0] != 0:
                raise RuntimeError("the database asks for a password")
            if kind == b"D":
                size = struct.unpack("!i", body[2:6])[0]
                rows.append(body[6 : 6 + size].decode())
            if kind == b"Z":
                if sent:
                    return rows
                query = sql.encode() + b"\\0"
                sock.sendall(b"Q" + struct.pack("!i", 4 + len(query)) + query)
                sent = True


def redis(*args):
    with socket.create_connection((HOST, 6379), timeout=10) as sock:
        payload = f"*{len(args)}\\r\\n" + "".join(f"${len(a)}\\r\\n{a}\\r\\n" for a in args)
        sock.sendall(payload.encode())
        reply = sock.makefile("rb").readline().decode().strip()
        if reply.startswith("-"):
            raise RuntimeError(reply)
        return reply[1:]


def remember():
    if KIND == "postgres":
        sql = (
            "CREATE TABLE IF NOT EXISTS seen (at timestamptz DEFAULT now()); "
            "INSERT INTO seen DEFAULT VALUES; SELECT count(*) FROM seen"
        )
        return int(postgres(sql)[-1])
    if KIND == "redis":
        return int(redis("INCR", "seen"))
    return 0


if __name__ == "__main__":
    print(f"seen {remember()}", flush=True)
'''

SERVER = """\
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import store

SEEN = store.remember()
print(f"seen {SEEN}", flush=True)
if os.environ.get("FINGERPRINT"):  # a hash of one variable: shows it is the same, never it
    value = os.environ.get(os.environ["FINGERPRINT"], "")
    print("fingerprint", hashlib.sha256(value.encode()).hexdigest()[:16], flush=True)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/info":
            greeting = open("greeting.txt").read().strip()
            info = {"argv": sys.argv, "env": dict(os.environ), "seen": SEEN, "greeting": greeting}
            body = json.dumps(info).encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
"""

# `target: app` stops before the debug stage, which fails to build.
DOCKERFILE = """\
FROM python:3.11-slim AS app
WORKDIR /app
COPY . .
ARG GREETING=unset
RUN echo "$GREETING" > greeting.txt
CMD ["python", "server.py"]

FROM app AS debug
RUN echo "the debug stage is built only without a target" && exit 9
"""


def write_service_app(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "store.py").write_text(STORE)
    (dest / "server.py").write_text(SERVER)
    (dest / "Dockerfile").write_text(DOCKERFILE)
    return dest
