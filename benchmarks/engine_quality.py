"""Engine quality: what the offline search proposer makes of each sample repository.

For every sample repository (testing/packs/*, testing/samples/*, the bundled examples) the
config is the repository's own `.mutbot.yml`, else the one `mutbot init` writes; the search
proposer runs exactly as in a run (targets, packs, policy). Prints per repository: the
candidates, the share that change an input the sandbox measures, the share that touch a
`never` setting (goal 0), whether a single-worker default was found where a server runs one
worker (goal: every time; "not 1": its server runs more, "-": no server a pack knows), and the
proposal time.

    python benchmarks/engine_quality.py [--only NAME]... [--count 8] [--show]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.config import load_config
from mutbot.init import starter_config
from mutbot.packs.model import apply_edits  # noqa: F401
from mutbot.packs.survey import overlay, settings
from mutbot.policy import DiffRules
from mutbot.proposers import search
from mutbot.proposers.learning import apply_diff
from mutbot.repofiles import repo_at
from mutbot.run.propose import pack_view, propose
from mutbot.targets import read_targets
from testing.packs import samples

SINGLE = "single-worker"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--show", action="store_true", help="list every candidate")
    args = parser.parse_args()
    chosen = [p for p in samples() if not args.only or p.name in args.only]
    header = (
        f"{'repository':<24} {'cand':>4} {'measured':>8} {'never':>6} {'1-worker':>9} {'ms':>6}"
    )
    print(header)
    totals = [0, 0, 0]
    missed = []
    for folder in chosen:
        with tempfile.TemporaryDirectory() as tmp:
            row = _one(folder, Path(tmp), args.count, args.show)
        cands, measured, never, single, ms, one_worker = row
        totals[0] += cands
        totals[1] += measured
        totals[2] += never
        found = {None: "-", False: "not 1"}.get(one_worker) or ("found" if single else "MISSED")
        if one_worker and not single:
            missed.append(folder.name)
        shares = f"{_share(measured, cands):>8} {_share(never, cands):>6}"
        print(f"{folder.name:<24} {cands:>4} {shares} {found:>9} {ms:>6.0f}")
    shares = f"{_share(totals[1], totals[0]):>8} {_share(totals[2], totals[0]):>6}"
    verdict = "missed: " + ", ".join(missed) if missed else "none missed"
    print(f"{'all':<24} {totals[0]:>4} {shares} {verdict}")
    return 1 if totals[2] or missed else 0


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _one(
    folder: Path, tmp: Path, count: int, show: bool
) -> tuple[int, int, int, bool, float, bool | None]:
    config_path = folder / ".mutbot.yml"
    if not config_path.is_file():
        repo = repo_at(folder)
        config_path = tmp / ".mutbot.yml"
        config_path.write_text(starter_config(list(repo.files), repo.read))
    config = load_config(config_path)
    config = config.model_copy(
        update={"propose": config.propose.model_copy(update={"count": count})}
    )
    rules = DiffRules(
        tuple(config.targets),
        (*config.protected, ".mutbot.yml", config.load.locustfile),
        config.policy.max_changed_lines,
        config.policy.max_files,
    )
    files = read_targets(folder, rules)
    started = time.perf_counter()  # reading the repository counts: a run does it too
    view = pack_view(folder, config, files, None)
    record, proposal = propose(
        search.create(), files, None, config, rules, 1, lambda _: None, (), view
    )
    ms = (time.perf_counter() - started) * 1000
    before = settings(view)
    texts = {f.path: f.text for f in files}
    measured = never = 0
    for candidate in proposal.candidates:
        new = apply_diff(candidate.diff, texts) or {}
        after = settings(overlay(view, new))
        changed = [
            k
            for k in before.keys() | after.keys()
            if (before.get(k) and before[k].value) != (after.get(k) and after[k].value)
        ]
        touches_never = any((after.get(k) or before[k]).setting.safety == "never" for k in changed)
        reaches = all(view.reaches(p) != "none" for p in new)
        measured += reaches
        never += touches_never
        if show:
            print(
                f"    - {candidate.title} [{', '.join(sorted(changed)) or 'no setting'}]"
                f"{'' if reaches else ' NOT MEASURED'}{' NEVER' if touches_never else ''}"
            )
    one_worker = _runs_one_worker(before)
    single = any(o.category == SINGLE for o in record.opportunities)
    return len(proposal.candidates), measured, never, single, ms, one_worker


def _runs_one_worker(seen: dict) -> bool | None:  # type: ignore[type-arg]
    """Whether a server the packs know runs a single worker process (None: no server seen)."""
    counts = {
        k: s.value
        for k, s in seen.items()
        if s.setting.name in ("workers", "processes", "instances", "worker_processes")
    }
    if not counts:
        return None
    return any(v in (1, "1") for v in counts.values())


if __name__ == "__main__":
    raise SystemExit(main())
