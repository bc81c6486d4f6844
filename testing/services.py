"""A tiny stdlib HTTP service project for backend tests, with switchable misbehaviour."""

from __future__ import annotations

from pathlib import Path

SERVER = """\
import os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = open("mode.txt").read().strip()
if MODE == "crash":
    sys.exit(3)
if MODE == "slow-start":
    time.sleep(3600)
hog = []


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/hog":
            for _ in range(64):
                hog.append(bytearray(16 * 1024 * 1024))
        if self.path == "/env":
            body = "\\n".join(sorted(os.environ)).encode()
        else:
            body = b"ok"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
"""

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY . .
CMD ["python", "server.py"]
"""


def write_service(dest: Path, mode: str = "ok", broken_build: bool = False) -> Path:
    """mode: ok | crash (exits at start) | slow-start (never answers)."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "server.py").write_text(SERVER)
    (dest / "mode.txt").write_text(mode + "\n")
    steps = 'RUN echo "building" && exit 7\n' if broken_build else ""
    (dest / "Dockerfile").write_text(DOCKERFILE + steps)
    return dest
