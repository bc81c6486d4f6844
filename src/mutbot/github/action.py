"""`mutbot action`: what the GitHub Action runs in the workflow's checkout. Reads the event,
decides, checks who asked, runs, opens or updates pull requests, and reports through the step
summary, the step outputs and (for a `/mutate` comment) reactions and a reply."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console

from mutbot import backends, untrusted
from mutbot.backends import BACKENDS
from mutbot.errors import ConfigError, GitHubError, MutbotError
from mutbot.github import actions, asked, board
from mutbot.github.client import GitHub
from mutbot.github.commands import keep_slugs
from mutbot.github.events import decide
from mutbot.github.loop import codeowners, monitor, opened_at
from mutbot.github.publish import Target, publish
from mutbot.github.remote import Remote
from mutbot.github.revert import open_revert
from mutbot.github.summary import Published, cell, step_summary
from mutbot.github.superseded import sync
from mutbot.github.types import Decision, Overrides
from mutbot.hardening import environment
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.model import evaluated
from mutbot.ledger.store import Ledger
from mutbot.ledger.views import forgiven, history, ignored_settings
from mutbot.progress import ConsoleReporter, plain, print_ranking
from mutbot.report import headline
from mutbot.results import RunResult
from mutbot.run.execute import Machinery, execute
from mutbot.run.options import RunOptions, load_inputs, rules_for

MAX_EVENT = 32 * 1024**2  # bytes; GitHub caps webhook payloads at 25 MB
REFUSAL = (
    "Thanks for the suggestion! `/mutate` commands run only for people with write access to "
    "this repository, so nothing was started. A maintainer can comment `/mutate` to run it."
)


@dataclass(frozen=True)
class ActionEnv:
    workspace: Path
    token: str
    event_name: str
    event_path: Path
    repository: str
    api_url: str
    output: Path | None
    summary: Path | None
    config: Path | None
    max_prs: int
    proposer: str | None
    dry_run: bool
    secrets: tuple[str, ...]  # values to mask in the log
    backend: str | None = None  # None: Docker, or fail; `local` only when asked for by name


def read_env(env: Mapping[str, str]) -> ActionEnv:
    missing = [
        k
        for k in ("GITHUB_TOKEN", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY")
        if not env.get(k)
    ]
    if missing:
        raise ConfigError(
            f"mutbot action runs inside GitHub Actions; missing {', '.join(missing)} "
            "(action.yml passes its github-token input as GITHUB_TOKEN)"
        )
    workspace = Path(env.get("GITHUB_WORKSPACE") or ".").resolve()
    max_prs = env.get("MUTBOT_MAX_PRS") or "3"
    if not max_prs.isdigit():
        raise ConfigError(f"max-prs: expected a whole number, got {max_prs!r}")
    config = env.get("MUTBOT_CONFIG")
    backend = env.get("MUTBOT_BACKEND") or None
    if backend not in (None, *BACKENDS):
        raise ConfigError(f"backend: expected one of {', '.join(BACKENDS)}, got {backend!r}")
    return ActionEnv(
        workspace=workspace,
        token=env["GITHUB_TOKEN"],
        event_name=env["GITHUB_EVENT_NAME"],
        event_path=Path(env["GITHUB_EVENT_PATH"]),
        repository=env["GITHUB_REPOSITORY"],
        api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
        output=Path(env["GITHUB_OUTPUT"]) if env.get("GITHUB_OUTPUT") else None,
        summary=Path(env["GITHUB_STEP_SUMMARY"]) if env.get("GITHUB_STEP_SUMMARY") else None,
        config=workspace / config if config else None,
        max_prs=int(max_prs),
        proposer=env.get("MUTBOT_PROPOSER") or None,
        dry_run=(env.get("MUTBOT_DRY_RUN") or "false").lower() in ("true", "1", "yes"),
        secrets=tuple(env[k] for k in ("GITHUB_TOKEN", "ANTHROPIC_API_KEY") if env.get(k)),
        backend=backend,
    )


def run_action(
    env: ActionEnv,
    backend: str | None = None,
    client: GitHub | None = None,
    machinery: Machinery | None = None,
) -> int:
    """`client`: the API client to use (default: one for env.api_url with the token);
    `machinery`: what runs measure with (default: the real one; tests script it)."""
    for secret in env.secrets:
        actions.mask(secret)
    try:
        payload = untrusted.loads(untrusted.read(env.event_path, MAX_EVENT))
    except OSError as exc:
        raise ConfigError(f"{env.event_path}: cannot read the event: {exc.strerror}") from exc
    except ValueError as exc:  # not JSON, or larger than any GitHub event
        payload = None
        why = f"{env.event_name} event: {env.event_path}: {exc}; ignored"
        decision = Decision(False, why, env.event_name)
    else:
        decision = decide(env.event_name, payload)
    with actions.untrusted():  # branch names and comment text are the event sender's words
        _say(f"mutbot: {decision.reason}")
    if not isinstance(payload, dict):  # not an event: said in the log, nothing else to do
        return _finish(env, [], None, decision, decision.reason)
    gh = client or GitHub(env.token, env.repository, env.api_url)
    comment = decision.comment
    if comment is not None and (decision.run or decision.reply):
        if not gh.can_write(comment.author):
            gh.comment(comment.issue_number, REFUSAL)
            _say(f"mutbot: {comment.author} has no write access: nothing runs")
            return _finish(env, [], None, decision, "refused: no write access")
        _react(gh, comment.comment_id, "eyes")
    if decision.ticks and not (decision.sender and gh.can_write(decision.sender)):
        who = decision.sender or "an unnamed sender"
        _say(f"mutbot: {who} has no write access: the dashboard's boxes do nothing")
        return _finish(env, [], None, decision, "refused: no write access")
    ledger = None if env.dry_run else BranchLedger(env.workspace)
    if env.event_name == "pull_request" and ledger is not None:
        with actions.group("outcomes"), actions.untrusted():
            sync(ledger, gh, Remote(env.workspace), _say)
            _dashboard(env, gh, ledger)
        return _finish(env, [], None, decision, "pull request closed: outcomes synced")
    if not decision.run:
        if comment is not None and decision.reply:
            gh.comment(comment.issue_number, decision.reply)
        return _finish(env, [], None, decision, decision.reason)

    runs: list[tuple[RunResult, list[Published]]] = []

    def mutate(spec: str, slugs: Mapping[str, str]) -> tuple[RunResult, list[Published]]:
        again = replace(decision, overrides=Overrides(proposer=spec))
        runs.append(_mutate(env, again, gh, backend, ledger, machinery, slugs))
        return runs[-1]

    if asked.handles(decision):
        with actions.untrusted():
            said = asked.answer(_project(env), env.config, decision, gh, ledger, mutate, _say)
        if ledger is not None and not runs:  # a run updates the dashboard itself
            _dashboard(env, gh, ledger)
        result, published = runs[-1] if runs else (None, [])
        return _finish(env, published, result, decision, said)
    try:
        if decision.command is not None and decision.command.action == "revert":
            assert comment is not None
            base = gh.default_branch()
            why = f"Asked for by {comment.author} with `/mutate revert`."
            done = open_revert(gh, Remote(env.workspace), comment.issue_number, base, why)
            if comment:
                gh.comment(
                    comment.issue_number,
                    f"Revert pull request: {done.url} ({done.reason or done.action})",
                )
                _react(gh, comment.comment_id, "rocket")
            return _finish(env, [done], None, decision, "revert")
        result, published = _mutate(env, decision, gh, backend, ledger, machinery)
    except MutbotError as exc:
        actions.add_summary(env.summary, f"### mutbot\n\nThe run failed: {cell(str(exc))}\n")
        if comment is not None:
            _react(gh, comment.comment_id, "confused")
            gh.comment(comment.issue_number, f"mutbot could not finish: {cell(str(exc))}")
        raise
    if comment is not None:
        gh.comment(
            comment.issue_number,
            step_summary(result, published, decision_reason=decision.reason)[:60_000],
        )
        _react(gh, comment.comment_id, "rocket")
    return _finish(env, published, result, decision, decision.reason)


def run_monitor(env: ActionEnv, client: GitHub | None = None) -> int:
    """`mutbot monitor`: outcomes, production verdicts and revert PRs, without a new run."""
    for secret in env.secrets:
        actions.mask(secret)
    gh = client or GitHub(env.token, env.repository, env.api_url)
    config, _ = load_inputs(RunOptions(project=_project(env), config=env.config))
    with actions.group("monitor"), actions.untrusted():
        opened = monitor(config, BranchLedger(env.workspace), gh, env.workspace, _say)
    urls = [p.url for p in opened if p.url]
    actions.set_outputs(env.output, {"pull-requests": json.dumps(urls)})
    actions.add_summary(
        env.summary,
        "### mutbot monitor\n\n"
        + (
            "\n".join(f"- revert opened: {u}" for u in urls) or "No merged mutation needs a revert."
        ),
    )
    return 0


def _say(text: str) -> None:
    """A log line that may quote a candidate, a comment or a branch name: printed as text."""
    print(plain(text), flush=True)


def _react(gh: GitHub, comment_id: int, content: str) -> None:
    """A reaction is a courtesy: one GitHub refuses is logged and never fails the run."""
    try:
        gh.react(comment_id, content)
    except GitHubError as exc:
        print(f"mutbot: no {content} reaction: {exc}", flush=True)


def _mutate(
    env: ActionEnv,
    decision: Decision,
    gh: GitHub,
    backend: str | None,
    ledger: Ledger | None,
    machinery: Machinery | None = None,
    slugs: Mapping[str, str] | None = None,
) -> tuple[RunResult, list[Published]]:
    """`slugs`: fingerprint → the slug of its open pull request's branch (a re-measurement)."""
    project = _project(env)
    # never the weaker local backend by accident: only when the workflow names it
    backend = backends.choose(backend or env.backend, fallback=False)
    if backend == "local":
        print(
            "mutbot: measuring with the LOCAL backend, asked for by the workflow (backend: "
            "local): no network isolation, no CPU quota (docs/sandbox.md)",
            flush=True,
        )
    overrides = decision.overrides
    share = {"incremental": 0.0, "radical": 1.0}.get(overrides.kind or "")
    options = RunOptions(
        project=project,
        backend=backend,
        proposer=overrides.proposer or env.proposer,
        count=overrides.count,
        config=env.config,
        targets=overrides.targets,
        radical_share=share,
    )
    config, config_path = load_inputs(options)
    entries = []
    if ledger is not None:
        with actions.group("outcomes and production"), actions.untrusted():
            if env.event_name == "schedule":
                monitor(config, ledger, gh, env.workspace, _say)
            else:
                sync(ledger, gh, Remote(env.workspace), _say)
        entries = ledger.read()  # once, after the sync: the history and the weekly PR count
        ignored = frozenset(ignored_settings(entries))
        options = replace(options, history=history(entries), ignored=ignored)
    out = Console(file=sys.stdout, width=160, highlight=False)
    with actions.group("mutbot run"), actions.untrusted(), ConsoleReporter(out) as reporter:
        result = keep_slugs(execute(options, reporter, machinery), slugs or {})
        print_ranking(result, out)
    if ledger is None:
        print("mutbot: dry run: no branch pushed, no pull request opened", flush=True)
        return result, []
    ledger.append(evaluated(result))
    target = Target(
        project,
        gh.default_branch(),
        env.max_prs,
        policy=config.policy,
        recent=opened_at(entries),
        codeowners=codeowners(env.workspace),
        record=lambda entry: ledger.append([entry]),
        rules=rules_for(config, config_path, project, options.targets),
        forgiven=forgiven(entries),
    )
    with actions.group("pull requests"), actions.untrusted():
        published = publish(result, gh, Remote(env.workspace), target, _say)
        if config.policy.dashboard:
            board.refresh(gh, ledger.read(), _say)
    return result, published


def _dashboard(env: ActionEnv, gh: GitHub, ledger: Ledger) -> None:
    """The dashboard after an event that changed what it shows, when the config wants one."""
    try:
        config, _ = load_inputs(RunOptions(project=_project(env), config=env.config))
    except MutbotError as exc:
        _say(f"mutbot: dashboard not updated: {exc}")
        return
    if config.policy.dashboard:
        board.refresh(gh, ledger.read(), _say)


def _project(env: ActionEnv) -> Path:
    if env.config is None:
        return env.workspace
    folder = env.config.parent
    return folder.parent if folder.name == ".github" else folder


def _finish(
    env: ActionEnv,
    published: list[Published],
    result: RunResult | None,
    decision: Decision,
    reason: str,
) -> int:
    urls = [p.url for p in published if p.url and p.action in ("opened", "updated", "unchanged")]
    best = ""
    if result is not None and result.ranking:
        top = next(c for c in result.candidates if c.slug == result.ranking[0])
        best = headline(top, result)
    actions.set_outputs(
        env.output,
        {
            "pull-requests": json.dumps(urls),
            "results": f"{result.output_dir}/results.json" if result else "",
            "best-improvement": best,
        },
    )
    if result is not None:
        actions.add_summary(env.summary, step_summary(result, published, decision_reason=reason))
    else:
        actions.add_summary(env.summary, f"### mutbot\n\nNothing ran: {cell(reason)}\n")
    return 0


def main_env() -> ActionEnv:
    return read_env(environment())  # the secrets were taken out of os.environ (hardening)
