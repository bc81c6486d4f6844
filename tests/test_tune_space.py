"""The search space the packs define (pure), and a configuration as a candidate."""

from __future__ import annotations

from mutbot.packs.model import Edit
from mutbot.packs.survey import survey
from mutbot.policy import DiffRules
from mutbot.tune import candidate as candidates
from mutbot.tune.space import Memory, Space, build
from testing.packs import view_of
from testing.repos import ROOT

CMD = 'CMD ["gunicorn", "--workers", "1", "--threads", "1", "--bind", "0.0.0.0:8000", "app:app"]\n'
FILES = {
    "Dockerfile": f"FROM python:3.11-slim\nCOPY . .\nRUN pip install -r requirements.txt\n{CMD}",
    "requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
    "app.py": "from flask import Flask\napp = Flask(__name__)\n",
}
RULES = DiffRules(targets=("Dockerfile",), protected=(), max_changed_lines=50, max_files=5)


def space(memory: Memory | None = None, keep: tuple[str, ...] = ()) -> Space:
    return build(survey(view_of(FILES, targets={"Dockerfile"})), memory, keep)


def test_the_packs_moves_and_their_partners_make_the_space() -> None:
    dims = {d.key: d for d in space().dims}
    workers, threads = dims["gunicorn.workers"], dims["gunicorn.threads"]
    assert (workers.kind, workers.low, workers.high, workers.log) == ("int", 1, 32, True)
    assert (threads.low, threads.high) == (1, 32)  # the pack's 64, narrowed to 32
    # an enum only over what a pack proposed: gthread (built in), not gevent (not installed)
    assert dims["gunicorn.worker_class"].choices == ("sync", "gthread")
    assert "gunicorn.bind" not in dims  # never changed by a proposer
    assert "gunicorn.timeout" not in dims  # no pack moves it here, nothing interacts with it


def test_memory_per_process_caps_what_multiplies_processes() -> None:
    measured = Memory(peak_mb=120.0, limit_mb=512.0, ceiling=0.8)
    dims = {d.key: d for d in space(measured).dims}
    # 120 MiB for 1 worker; 80% of 512 MiB holds 3
    assert dims["gunicorn.workers"].high == 3
    assert "120 MiB measured per workers" in dims["gunicorn.workers"].why
    assert dims["gunicorn.threads"].high == 32  # threads do not multiply processes


def test_kept_settings_are_not_searched() -> None:
    keys = {d.key for d in space(keep=("threads",)).dims}
    assert "gunicorn.threads" not in keys and "gunicorn.workers" in keys


def test_a_configuration_becomes_one_candidate_with_both_flags() -> None:
    chosen = space()
    params = chosen.current() | {"gunicorn.workers": 4, "gunicorn.threads": 8}
    built = candidates.build(chosen, params, FILES, None, RULES, "why")
    assert not isinstance(built, str)
    assert built.title == "Search: workers 1 → 4, threads 1 → 8"
    assert built.kind == "radical"
    assert '+CMD ["gunicorn", "--workers", "4", "--threads", "8",' in built.diff
    assert chosen.params_of({"gunicorn.workers": 4, "gunicorn.threads": 8}) == params


def test_what_cannot_be_a_candidate_says_why() -> None:
    chosen = space()
    assert candidates.build(chosen, chosen.current(), FILES, None, RULES, "") == (
        "the baseline's own configuration"
    )
    narrow = DiffRules(targets=("app.py",), protected=(), max_changed_lines=50, max_files=5)
    params = chosen.current() | {"gunicorn.workers": 2}
    assert "Dockerfile" in str(candidates.build(chosen, params, FILES, None, narrow, ""))
    assert chosen.params_of({"gunicorn.workers": 999}) is None  # outside the domain
    assert chosen.params_of({"nginx.worker_processes": 2}) is None  # outside the space


def test_insertions_at_one_point_are_merged_in_order() -> None:
    edits = (Edit("f", 3, 3, " -a"), Edit("f", 3, 3, " -b"), Edit("f", 5, 6, "x"))
    assert candidates.merged(edits) == (Edit("f", 3, 3, " -a -b"), Edit("f", 5, 6, "x"))


def test_a_generic_count_without_a_domain_is_searched_from_one() -> None:
    # the bundled example's server.ini: settings the packs know only as generic app settings
    root = ROOT / "examples" / "pricing"
    files = {p: (root / p).read_text() for p in ("Dockerfile", "app.py", "config/server.ini")}
    dims = {d.key: d for d in build(survey(view_of(files)), None, ()).dims}
    threads = next(d for key, d in dims.items() if key.endswith("threads"))
    assert (threads.low, threads.high, threads.log) == (1, 32, True), threads.why
    assert threads.why.startswith("1..32: from 1")


def test_a_whole_command_line_is_named_by_the_words_it_changes() -> None:
    chosen = space()
    run = next(d for d in chosen.dims if d.key.startswith("dockerfile.RUN"))
    assert run.current == "pip install -r requirements.txt"
    params = chosen.current() | {run.key: run.choices[-1], "gunicorn.workers": 2}
    built = candidates.build(chosen, params, FILES, None, RULES, "why")
    assert not isinstance(built, str)
    assert built.title == "Search: workers 1 → 2, RUN 1 adds --no-cache-dir", built.title
