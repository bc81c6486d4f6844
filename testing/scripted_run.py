"""Whole runs without Docker: real git worktrees, the real packs, policy and guard, but a
scripted backend whose "build" reads the settings the packs see in the built files, and trials
whose metrics a chosen response surface gives for those settings. Proposing, the closed-loop
search, reduction, confirmation, Holm, the judge and results.json all run, in seconds."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from mutbot.backends.base import Artifact, Instance, Limits
from mutbot.calm import NoQuiet
from mutbot.config import Config
from mutbot.packs.model import Value
from mutbot.packs.survey import settings
from mutbot.results import RunResult
from mutbot.run.execute import Machinery, execute
from mutbot.run.options import RunOptions
from mutbot.run.propose import pack_view
from testing.reporters import RecordingReporter
from testing.repos import git
from testing.scripted import ScriptedTrials

# a configuration (setting key -> value) and a random source -> one trial's metrics; it may
# raise StageFailure (a crash, an OOM kill) like a real trial
Surface = Callable[[dict[str, Value], random.Random], dict[str, float]]


class ScriptedBackend:
    name = "scripted"
    guarantees = "scripted: nothing is built or started (tests)"

    def __init__(self, config: Config, keys: tuple[str, ...]) -> None:
        self.config, self.keys = config, keys
        self.built: dict[str, dict[str, Value]] = {}

    def build(
        self, project_dir: Path, tag: str, log: Path, changed: tuple[str, ...] = ()
    ) -> Artifact:
        seen = settings(pack_view(project_dir, self.config, (), None))
        self.built[tag] = {k: seen[k].value for k in self.keys if k in seen}
        log.write_text(f"scripted build of {tag}: {self.built[tag]}\n", encoding="utf-8")
        return Artifact(ref=tag, project_dir=project_dir, image_size_mb=100.0, build_seconds=0.0)

    def run_tests(self, artifact: Artifact, command: str, timeout: float, log: Path) -> None:
        return None

    def cold_build(self, artifact: Artifact, log: Path) -> float:
        return 0.0

    def compressed_mb(self, artifact: Artifact) -> float | None:
        return artifact.image_size_mb

    def start(self, artifact: Artifact, log: Path, side: str = "baseline") -> Instance:
        raise AssertionError("scripted trials never start an instance")

    def refuses(self, limits: Limits) -> str | None:
        return None

    def close(self) -> None:
        return None


GUNICORN_CONFIG = """\
version: 1
targets: [Dockerfile]
sandbox: {port: 8000, health: /, cpus: 1, memory: 1g}
load: {locustfile: locustfile.py, users: 20, duration: 5s, warmup: 1s}
judge: {alpha: 0.05, aa_pairs: 2, screen_pairs: 2, pairs: 6, confirm_top: 1}
"""


def gunicorn_project(dest: Path, config: str = GUNICORN_CONFIG, extra: str = "") -> Path:
    """A Flask app under gunicorn with one worker and one thread, set on the Dockerfile's CMD."""
    dest.mkdir(parents=True, exist_ok=True)
    files = {
        "app.py": "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get('/')\n"
        "def index():\n    return 'ok'\n",
        "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
        "Dockerfile": "FROM python:3.11-slim\nWORKDIR /app\nCOPY requirements.txt .\n"
        "RUN pip install -r requirements.txt\nCOPY . .\nEXPOSE 8000\n"
        'CMD ["gunicorn", "--workers", "1", "--threads", "1", "--bind", "0.0.0.0:8000", '
        f'{extra}"app:app"]\n',
        "locustfile.py": "from locust import HttpUser, task\n\n\nclass User(HttpUser):\n"
        "    @task\n    def index(self):\n        self.client.get('/')\n",
        ".mutbot.yml": config,
    }
    for name, text in files.items():
        (dest / name).write_text(text, encoding="utf-8")
    git(dest, "init", "--quiet", "--initial-branch=main")
    git(dest, "add", "--all")
    git(dest, "commit", "--quiet", "-m", "initial")
    return dest


def scripted_run(
    project: Path,
    surface: Surface,
    keys: tuple[str, ...],
    out: Path,
    seed: int = 1,
    **options: object,
) -> tuple[RunResult, ScriptedBackend, ScriptedTrials]:
    """`mutbot run --proposer tune` (unless `options` say otherwise) on `project`, measured by
    `surface` over the settings `keys`."""
    from mutbot.config import load_config

    backend = ScriptedBackend(load_config(project / ".mutbot.yml"), keys)
    rng = random.Random(seed)
    trials = ScriptedTrials(lambda ref, _name, _index: surface(backend.built[ref], rng))
    run_options = RunOptions(
        project=project,
        out=out,
        seed=seed,
        **({"proposer": "tune"} | options),  # type: ignore[arg-type]
    )
    machinery = Machinery(backend=backend, trials=trials, quiet=NoQuiet())
    return execute(run_options, RecordingReporter(), machinery), backend, trials
