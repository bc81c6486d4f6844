"""A service whose capacity is known: one request at a time, SERVICE_MS each (~100 req/s),
200 on /ok and 404 elsewhere, on 127.0.0.1."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

SERVICE_MS = 10  # per request, one at a time: a capacity of at most ~100 requests/s


class SerialHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(SERVICE_MS / 1000)
        status = 200 if self.path == "/ok" else 404
        try:
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class SerialServer(HTTPServer):
    request_queue_size = 256  # many users connect at once; none is refused


@contextmanager
def serial_server() -> Iterator[str]:
    """The server's base URL while the block runs."""
    server = SerialServer(("127.0.0.1", 0), SerialHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
