"""Does mutbot find real improvements, and do its intervals cover the true effect?

A tiny service answers every request after a fixed `delay_ms` (threaded, so requests do not
queue): its latency is the delay plus a small overhead, so a candidate that lowers the delay has
a known effect. For each effect size, several full `mutbot run`s judge such a candidate; prints
how often it was called better and how often the reported interval covered the true change.

    python benchmarks/power.py [--effects 3,5,10,20] [--repeats 5] [--pairs 8]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from mutbot.units import parse_duration
from testing.reporters import RecordingReporter
from testing.repos import IDENTITY

BASE_DELAY_MS = 100.0
SERVER = """\
import configparser, os, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DELAY = configparser.ConfigParser()
DELAY.read("config/delay.ini")
SECONDS = DELAY.getfloat("server", "delay_ms") / 1000


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        time.sleep(SECONDS)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
"""
LOCUSTFILE = """\
from locust import HttpUser, constant, task


class Client(HttpUser):
    wait_time = constant(0)

    @task
    def get(self):
        self.client.get("/")
"""
CONFIG = """\
version: 1
targets: ["config/*.ini"]
sandbox: {{port: 8080, health: /, local_command: python server.py, cpus: 1, memory: 128m}}
load: {{locustfile: locustfile.py, users: 10, spawn_rate: 50, duration: {duration}s,
        warmup: {warmup}s}}
objective: {{primary: latency_p50_ms}}
judge: {{pairs: {pairs}, aa_pairs: 0, confirm_top: 1, alpha: {alpha}}}
"""


def make_project(root: Path, args: argparse.Namespace) -> Path:
    (root / "config").mkdir(parents=True)
    (root / "server.py").write_text(SERVER)
    (root / "locustfile.py").write_text(LOCUSTFILE)
    (root / "config" / "delay.ini").write_text(f"[server]\ndelay_ms = {BASE_DELAY_MS:g}\n")
    (root / "Dockerfile").write_text(
        'FROM python:3.11-slim\nWORKDIR /app\nCOPY . .\nCMD ["python", "server.py"]\n'
    )
    (root / ".mutbot.yml").write_text(
        CONFIG.format(
            duration=args.duration, warmup=args.warmup, pairs=args.pairs, alpha=args.alpha
        )
    )
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "delay service"]):
        subprocess.run(["git", *IDENTITY, *command], cwd=root, check=True)
    return root


def candidate(delay: float) -> dict[str, str]:
    diff = (
        "diff --git a/config/delay.ini b/config/delay.ini\n--- a/config/delay.ini\n"
        "+++ b/config/delay.ini\n@@ -1,2 +1,2 @@\n [server]\n"
        f"-delay_ms = {BASE_DELAY_MS:g}\n+delay_ms = {delay:g}\n"
    )
    return {"title": f"delay {delay:g} ms", "kind": "incremental", "rationale": "", "diff": diff}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effects", default="3,5,10,20", help="delay reductions, in percent")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=0.01)
    parser.add_argument("--duration", type=parse_duration, default=2.0)
    parser.add_argument("--warmup", type=parse_duration, default=0.5)
    args = parser.parse_args()
    effects = [float(e) for e in args.effects.split(",")]

    rows = []
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mutbot-power-") as tmp:
        project = make_project(Path(tmp) / "svc", args)
        for effect in effects:
            delay = BASE_DELAY_MS * (1 - effect / 100)
            mutations = Path(tmp) / f"c{effect:g}.json"
            mutations.write_text(json.dumps([candidate(delay)]))
            better = covered = 0
            estimates = []
            for rep in range(args.repeats):
                out = Path(tmp) / f"out-{effect:g}-{rep}"
                result = execute(
                    RunOptions(project, mutations, out=out, seed=rep), RecordingReporter()
                )
                cand = result.candidates[0]
                comp = cand.comparisons["latency_p50_ms"]
                # the true change: the delay ratio, with the fixed overhead measured on the baseline
                overhead = comp.baseline - BASE_DELAY_MS
                truth = (delay + overhead) / (BASE_DELAY_MS + overhead) - 1
                better += cand.verdict == "propose"
                covered += comp.ci_low <= truth <= comp.ci_high
                estimates.append(comp.change)
                print(
                    f"effect {effect:g}% run {rep + 1}: {cand.verdict:<12} truth {truth:+.1%} "
                    f"estimate {comp.change:+.1%} CI {comp.ci_low:+.1%}…{comp.ci_high:+.1%}",
                    flush=True,
                )
            rows.append((effect, better, covered, float(np.median(estimates))))

    print()
    print(
        f"{args.repeats} runs per effect, {args.pairs} pairs each "
        f"({args.warmup:g}s + {args.duration:g}s), alpha {args.alpha:g}, min effect 5%"
    )
    print("| delay cut | called better | CI covered the true change | median estimate |")
    print("| ---: | ---: | ---: | ---: |")
    for effect, better, covered, estimate in rows:
        print(
            f"| {effect:g}% | {better}/{args.repeats} | {covered}/{args.repeats} | "
            f"{estimate:+.1%} |"
        )
    print(f"wall time {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
