"""A project whose service and tests hunt for secrets, for the tests that none reaches them.

Both report, as one JSON line on their output (which mutbot keeps in the run's logs), every
process environment they could read (whole), what `git config --list --show-origin` shows from
where they run, and every `.git` on the way from that folder up to `/`.
"""

from __future__ import annotations

import json
from pathlib import Path

from testing.repos import git

REPORT = "SNOOP "  # the report line's prefix

SERVER = """\
import json, os, subprocess, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def scan():
    environs = {}
    for pid in sorted(p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                environs[pid] = handle.read().decode("utf-8", "replace")
        except OSError:
            pass
    here = Path.cwd()
    try:
        config = subprocess.run(
            ["git", "config", "--list", "--show-origin"], capture_output=True, text=True
        )
        shown = config.stdout + config.stderr
    except FileNotFoundError:  # no git here (a slim image)
        shown = ""
    report = {
        "uid": os.getuid(),
        "cwd": str(here),
        "environs": environs,
        "git_config": shown,
        "dot_git": [str(p / ".git") for p in (here, *here.parents) if (p / ".git").exists()],
    }
    print("SNOOP " + json.dumps(report), flush=True)


class Handler(BaseHTTPRequestHandler):
    scanned = False

    def do_GET(self):
        if not Handler.scanned:  # once, while mutbot is measuring
            Handler.scanned = True
            scan()
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


if sys.argv[1:] == ["--scan"]:
    scan()
else:
    address = (os.environ.get("HOST", "127.0.0.1"), int(os.environ["PORT"]))
    ThreadingHTTPServer(address, Handler).serve_forever()
"""

LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Visitor(HttpUser):
    wait_time = constant(0.05)

    @task
    def home(self):
        self.client.get("/")
"""

CONFIG = """\
version: 1
targets: [settings.ini]
sandbox:
  local_command: {command}
  health: /healthz
  memory: 256m
  startup_timeout: 20s
tests:
  command: python server.py --scan
  timeout: 60s
load:
  locustfile: loadtest/locustfile.py
  users: 2
  spawn_rate: 2
  duration: {duration}
  warmup: 0.5s
judge:
  alpha: 0.45
  aa_pairs: 0
  pairs: 3
  screen_pairs: 1
  confirm_top: 1
"""

DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
ENV PORT=8080 HOST=0.0.0.0
COPY . .
CMD ["python", "server.py"]
"""

CANDIDATE = {
    "title": "Raise the answer",
    "rationale": "a change for the run to measure",
    "kind": "incremental",
    "risk": 1,
    "diff": (
        "diff --git a/settings.ini b/settings.ini\n"
        "--- a/settings.ini\n+++ b/settings.ini\n"
        "@@ -1,2 +1,2 @@\n [app]\n-workers = 1\n+workers = 2\n"
    ),
}


def write_snoop_repo(
    dest: Path, command: str = "python server.py", duration: str = "1s", extraheader: str = ""
) -> Path:
    """A committed repository (optionally with a checkout's token in .git/config, as
    actions/checkout leaves it) and its candidates file, `dest/candidates.json`."""
    dest.mkdir(parents=True)
    (dest / "server.py").write_text(SERVER)
    (dest / "settings.ini").write_text("[app]\nworkers = 1\n")  # a tuning setting: see CANDIDATE
    (dest / "loadtest").mkdir()
    (dest / "loadtest" / "locustfile.py").write_text(LOCUSTFILE)
    (dest / ".mutbot.yml").write_text(CONFIG.format(command=command, duration=duration))
    (dest / "Dockerfile").write_text(DOCKERFILE)
    (dest / ".dockerignore").write_text("candidates.json\n")
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "initial")
    if extraheader:
        git(dest, "config", "http.https://github.com/.extraheader", extraheader)
    (dest / "candidates.json").write_text(json.dumps([CANDIDATE]))
    return dest


def reports(logs: Path) -> list[dict[str, object]]:
    """Every report found in the run's logs, with the log it came from."""
    found = []
    for log in sorted(logs.rglob("*.log")):
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith(REPORT):
                found.append({"log": log.name, **json.loads(line.removeprefix(REPORT))})
    return found
