"""Command line: `mutbot run`, `propose`, `explain`, `report` and `validate`. Commands return
an exit code; errors are turned into one line here, and only here."""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

from pydantic import ValidationError
from rich.console import Console

from mutbot import __version__, hardening, proposers, untrusted
from mutbot.backends import BACKENDS
from mutbot.candidates import load_candidates
from mutbot.config import check_paths, find_config, load_config
from mutbot.errors import CandidateError, ConfigError, Interrupted, MutbotError
from mutbot.explain import Unusable, explain, find
from mutbot.ledger.model import evaluated
from mutbot.ledger.store import LOCAL_PATH, FileLedger, Ledger
from mutbot.ledger.views import history
from mutbot.progress import ConsoleReporter, plain, print_ranking
from mutbot.results import RunResult
from mutbot.run.execute import execute
from mutbot.run.options import RunOptions
from mutbot.run.propose import propose_only
from mutbot.statedir import make_folder
from mutbot.units import parse_duration, shown
from mutbot.validate import check_project

MAX_RESULTS = 64 * 1024**2  # bytes of a results.json explain reads

UNEXPECTED = 70


def cmd_run(args: argparse.Namespace) -> int:
    options = RunOptions(
        project=args.repo,
        mutations=args.mutations,
        out=args.out,
        dry_run=args.dry_run,
        backend=args.backend,
        seed=args.seed,
        proposer=args.proposer,
        count=args.count,
    )
    if args.timeout:
        signal.signal(signal.SIGALRM, _raise(f"timed out after {args.timeout:g}s"))
        signal.setitimer(signal.ITIMER_REAL, args.timeout)
    ledger = FileLedger(args.repo / LOCAL_PATH)
    options = replace(options, history=history(ledger.read()))
    with ConsoleReporter() as reporter:
        result = execute(options, reporter)
    ledger.append(evaluated(result))
    stdout = Console(width=None if sys.stdout.isatty() else 160)
    print_ranking(result, stdout)
    for line in (
        f"results: {result.output_dir}/results.json (pictures beside it)",
        f"as a page: mutbot report {result.output_dir}/results.json",
    ):
        stdout.print(line, highlight=False, markup=False, soft_wrap=True)
    return 0


def cmd_propose(args: argparse.Namespace) -> int:
    options = RunOptions(
        project=args.repo, seed=args.seed, proposer=args.proposer, count=args.count
    )
    console = Console(stderr=True)
    _, proposal = propose_only(
        options,
        lambda text: console.print(plain(text), highlight=False, markup=False, soft_wrap=True),
    )
    listed = [c.model_dump(exclude_none=True) for c in proposal.candidates]
    _write(args.out, json.dumps(listed, indent=2) + "\n")
    for candidate in proposal.candidates:
        print(plain(f"{candidate.kind:<11} {candidate.fingerprint}  {candidate.title}"))
    print(
        f"{len(listed)} candidates in {args.out}; measure them with "
        f"`mutbot run --proposer file:{args.out}`"
    )
    return 0


def _write(path: Path, text: str) -> None:
    """An output file; inside `.mutbot/`, that folder gets its `.gitignore` first."""
    try:
        make_folder(path.parent)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror}") from None


def cmd_action(args: argparse.Namespace) -> int:
    from mutbot.github.action import main_env, run_action  # loads PyGithub only when needed

    return run_action(main_env(), backend=args.backend)


def cmd_monitor(args: argparse.Namespace) -> int:
    from mutbot.github.action import main_env, run_monitor

    return run_monitor(main_env())


def cmd_ledger(args: argparse.Namespace) -> int:
    from mutbot.ledger.views import export_jsonl, show

    entries = _ledger(args).read()
    if args.command == "export":
        text = "".join(line + "\n" for line in export_jsonl(entries))
        if args.out:
            _write(args.out, text)
            print(f"{text.count(chr(10))} examples in {args.out}")
        else:
            sys.stdout.write(text)
        return 0
    print(plain(show(entries, as_json=args.json)))
    return 0


def _ledger(args: argparse.Namespace) -> Ledger:
    from mutbot.ledger.branch import BranchLedger
    from mutbot.ledger.store import FileLedger

    if args.branch:
        return BranchLedger(args.repo)
    return FileLedger(args.repo / LOCAL_PATH)


def cmd_init(args: argparse.Namespace) -> int:
    from mutbot.init import init

    written = init(
        args.repo, force=args.force, default_branch=args.default_branch, service=args.service
    )
    for path in written.paths:
        if path == written.locustfile:
            print(plain(f"wrote {path} (a starting point: GET requests over the routes it read)"))
        elif path.name == ".mutbot.yml":
            checks = f"{written.checks} line{'s' if written.checks != 1 else ''} marked CHECK"
            print(plain(f"wrote {path} ({checks})"))
        else:
            print(plain(f"wrote {path}"))
    for note in written.notes:
        print(plain(f"note: {note}"))
    repo = "" if args.repo == Path(".") else f" --repo {shlex.quote(str(args.repo))}"
    print(
        f"next: review the lines marked CHECK, then run `mutbot doctor{repo}`: it builds, tests, "
        "starts and loads the service once, as a run does, and says what to fix. Commit the "
        "files and mutbot runs on the next push (docs/github.md)"
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from mutbot.doctor import doctor

    return doctor(
        RunOptions(project=args.repo, backend=args.backend), lambda line: print(line, flush=True)
    )


def cmd_validate(args: argparse.Namespace) -> int:
    path = find_config(args.repo)
    config = load_config(path)
    check_paths(config, args.repo, path)
    checked = check_project(config, args.repo, path, build_files=True)
    print(f"{path}: valid ({len(config.targets)} target globs, primary {config.objective.primary})")
    sandbox = checked.config.sandbox
    if sandbox.compose:
        print(
            plain(
                f"{args.repo / sandbox.compose}: service {checked.service}, port {sandbox.port}, "
                f"health {sandbox.health}, services: {', '.join(sandbox.services) or 'none'}"
            )
        )
    for line in checked.notes:
        print(plain(f"note: {line}"))
    if args.mutations:
        candidates = load_candidates(args.mutations)
        print(f"{args.mutations}: {len(candidates)} candidates")
    return 0


def read_results(path: Path) -> RunResult:
    """A results.json, or a one-line CandidateError saying why it is none."""
    try:
        data = untrusted.loads(untrusted.read(path, MAX_RESULTS), allow_nan=True)
        return RunResult.model_validate(data)
    except OSError as exc:
        raise CandidateError(f"{path}: cannot read: {exc.strerror}") from exc
    except untrusted.JsonError as exc:
        raise CandidateError(f"{path}: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(part) for part in first["loc"])[:100] or "(top level)"
        raise CandidateError(f"{path}: not a mutbot results.json: {where}: {first['msg']}") from exc
    except ValueError as exc:  # too large
        raise CandidateError(f"{path}: {exc}; not a mutbot results.json") from exc


def cmd_explain(args: argparse.Namespace) -> int:
    path = args.results
    run = read_results(path)
    cand = find(run, args.candidate)
    if cand is None:
        names = ", ".join(c.slug for c in run.candidates[:20])
        more = f" (+{len(run.candidates) - 20} more)" if len(run.candidates) > 20 else ""
        raise CandidateError(
            f"{path}: no candidate {shown(args.candidate)}; one of: {names}{more}"[:1000]
        )
    try:
        lines, same = explain(run, cand)
    except Unusable as exc:
        raise CandidateError(f"{path}: cannot recompute: {exc}") from exc
    print(plain("\n".join(lines)))
    return 0 if same else 1


def cmd_report(args: argparse.Namespace) -> int:
    from mutbot.html_report import Unreadable, render_page
    from mutbot.plots import inline_pictures  # matplotlib: loaded only for the pictures

    run = read_results(args.results)
    out = args.out or args.results.parent / "report.html"
    try:
        charts, notes = inline_pictures(run)
        page = render_page(run, charts, notes)
    except Unreadable as exc:
        raise CandidateError(f"{args.results}: cannot show: {exc}") from exc
    _write(out, page)
    for note in notes:
        print(plain(f"note: {note}"), file=sys.stderr)
    print(plain(f"report: {out}"))
    return 0


def _raise(message: str) -> Callable[[int, FrameType | None], None]:
    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(message)

    return handler


PROPOSER_HELP = (
    "anthropic, search, tune (the closed-loop search over joint settings) or file:PATH "
    "(default: anthropic when ANTHROPIC_API_KEY is set, else the offline search)"
)


def _proposer(value: str) -> str:
    try:
        return proposers.choose(value)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of 1 or more, got {value!r}")
    return int(value)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mutbot", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"mutbot {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="measure candidates against the baseline and rank them")
    run.add_argument("--repo", type=Path, default=Path("."), help="project folder (default: .)")
    choice = run.add_mutually_exclusive_group()
    choice.add_argument("--proposer", type=_proposer, help=PROPOSER_HELP)
    choice.add_argument(
        "--mutations", type=Path, help="JSON list of candidates (same as --proposer file:PATH)"
    )
    run.add_argument("--count", type=_positive, help="candidates to propose (propose.count)")
    run.add_argument("--out", type=Path, help="output folder (default .mutbot/runs/<id>/)")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="also leave a local branch mutbot/<slug> per proposed candidate",
    )
    run.add_argument(
        "--backend", choices=sorted(BACKENDS), help="default: docker if it answers, else local"
    )
    run.add_argument("--seed", type=int, default=1, help="orders the trials inside each pair")
    run.add_argument("--timeout", type=parse_duration, help="stop and clean up after this long")
    run.set_defaults(func=cmd_run)

    ask = sub.add_parser("propose", help="propose candidates without measuring them")
    ask.add_argument("--repo", type=Path, default=Path("."), help="project folder (default: .)")
    ask.add_argument("--out", type=Path, required=True, help="where to write the candidates")
    ask.add_argument("--proposer", type=_proposer, help=PROPOSER_HELP)
    ask.add_argument("--count", type=_positive, help="candidates to propose (propose.count)")
    ask.add_argument("--seed", type=int, default=1, help="the search proposer's tie-breaks")
    ask.set_defaults(func=cmd_propose)

    act = sub.add_parser("action", help="run as the GitHub Action (reads GITHUB_* variables)")
    act.add_argument(
        "--backend", choices=sorted(BACKENDS), help="default: docker (local only when named)"
    )
    act.set_defaults(func=cmd_action)

    watch = sub.add_parser("monitor", help="compare merged mutations in production; revert PRs")
    watch.set_defaults(func=cmd_monitor)

    for name, text in (
        ("ledger", "show every candidate ever evaluated and what became of it"),
        ("export", "write the ledger as a fine-tuning dataset (JSON lines)"),
    ):
        book = sub.add_parser(name, help=text)
        book.add_argument("--repo", type=Path, default=Path("."), help="project folder")
        book.add_argument(
            "--branch", action="store_true", help="read the mutbot/ledger branch of origin"
        )
        if name == "ledger":
            book.add_argument("--json", action="store_true", help="the folded records as JSON")
        else:
            book.add_argument("--format", choices=["jsonl"], default="jsonl")
            book.add_argument("--out", type=Path, help="file to write (default: stdout)")
        book.set_defaults(func=cmd_ledger)

    start = sub.add_parser("init", help="write a starter .mutbot.yml and a GitHub workflow")
    start.add_argument("--repo", type=Path, default=Path("."), help="project folder (default: .)")
    start.add_argument("--force", action="store_true", help="overwrite existing files")
    start.add_argument("--default-branch", default="main", help="branch whose pushes run mutbot")
    start.add_argument(
        "--service",
        metavar="NAME",
        help="the service to measure: a compose service, a Kubernetes container or workload, "
        "or a Dockerfile path (default: the production one init finds)",
    )
    start.set_defaults(func=cmd_init)

    why = sub.add_parser("explain", help="recompute a verdict from results.json, step by step")
    why.add_argument("results", type=Path, help="a results.json written by mutbot run")
    why.add_argument("candidate", help="slug, title or fingerprint of a candidate")
    why.set_defaults(func=cmd_explain)

    page = sub.add_parser("report", help="render results.json as one HTML page (no script)")
    page.add_argument("results", type=Path, help="a results.json written by mutbot run")
    page.add_argument(
        "-o", "--out", type=Path, help="the page to write (default: report.html beside it)"
    )
    page.set_defaults(func=cmd_report)

    check = sub.add_parser(
        "doctor", help="smoke-test the baseline as a run would, and say what to fix"
    )
    check.add_argument("--repo", type=Path, default=Path("."), help="project folder (default: .)")
    check.add_argument(
        "--backend", choices=sorted(BACKENDS), help="default: docker if it answers, else local"
    )
    check.set_defaults(func=cmd_doctor)

    validate = sub.add_parser("validate", help="check the config (and a candidates file)")
    validate.add_argument("--repo", type=Path, default=Path("."))
    validate.add_argument("--mutations", type=Path)
    validate.set_defaults(func=cmd_validate)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    hardening.harden()  # before any child process: no secret may reach one
    args = parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _raise("terminated"))
    try:
        return int(args.func(args))
    except MutbotError as exc:
        print(plain(f"mutbot: error: {exc}"), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("mutbot: interrupted", file=sys.stderr)
        return Interrupted.exit_code
    except Exception:
        print(
            f"mutbot {__version__}, Python {sys.version.split()[0]}: unexpected error "
            "(a bug; please report it with this output):",
            file=sys.stderr,
        )
        traceback.print_exc()
        return UNEXPECTED
