"""What a maintainer asks of one mutbot pull request — `/mutate rebench`, `/mutate ignore`,
`/mutate ignore setting NAME` — and of the dashboard's boxes. Each records in the ledger before
it acts on GitHub, and answers in words for the pull request's conversation.

A re-measurement is an ordinary run of exactly one candidate (the ledger's diff for the pull
request's fingerprint, through the `file:PATH` proposer) published the ordinary way: the open
pull request from the same branch gets the new figures, and a new commit when the base moved.
"""

from __future__ import annotations

import difflib
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mutbot.conflicts import from_data
from mutbot.errors import GitHubError
from mutbot.github.body import marker_fingerprint, read_marker
from mutbot.github.client import GitHub
from mutbot.github.dashboard import setting_id
from mutbot.github.payload import quote
from mutbot.github.summary import Published
from mutbot.github.types import PullInfo, Tick
from mutbot.ledger.model import Entry, now
from mutbot.ledger.store import Ledger
from mutbot.ledger.views import FORGETTABLE, Record, fold, ignored_settings
from mutbot.report import defuse, one_line
from mutbot.results import RunResult

# one run of the given proposer spec, publishing what it proposes; `slugs`: fingerprint → the
# slug its pull request's branch already has, so publishing finds that pull request
Mutate = Callable[[str, Mapping[str, str]], tuple[RunResult, list[Published]]]
Log = Callable[[str], None]
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")  # as mutbot.candidates.slugify writes them


class NotMutbotPull(GitHubError):
    """The command names a pull request mutbot did not propose."""


@dataclass(frozen=True)
class Asked:
    gh: GitHub
    ledger: Ledger
    who: str  # "octocat with `/mutate ignore`", "octocat on the dashboard"


def mutbot_pull(gh: GitHub, number: int, command: str) -> tuple[PullInfo, dict[str, Any], str]:
    """The pull request, its marker and its fingerprint; NotMutbotPull when it is not one of
    mutbot's proposals."""
    pull = gh.pull(number)
    data = read_marker(pull.body) or {}
    if not pull.head.startswith("mutbot/") or not isinstance(data.get("fingerprint"), str):
        raise NotMutbotPull(
            f"#{number} is not a pull request mutbot proposed: `{command}` works only on one"
        )
    fp = marker_fingerprint(pull.body)
    if fp is None:
        raise NotMutbotPull(f"#{number}: its marker names no candidate mutbot knows")
    return pull, data, fp


def rebench(asked: Asked, number: int, mutate: Mutate) -> str:
    """Measures the pull request's change again at the current base; the reply."""
    pull, _, fp = mutbot_pull(asked.gh, number, "/mutate rebench")
    if pull.state != "open":
        return f"#{number} is {'merged' if pull.merged else 'closed'}: nothing to measure again."
    record = fold(asked.ledger.read()).get(fp)
    slug = pull.head.removeprefix("mutbot/").removesuffix(f"-{fp[:7]}")
    if record is None or not record.diff or not record.title:
        return f"The ledger holds no diff for this change ({fp}): nothing to measure again."
    if not _SLUG.fullmatch(slug):
        return f"The branch {quote(pull.head)} does not name this change ({fp[:7]}): left alone."
    result, published = _measure(record, slug, mutate)
    return rebench_reply(result, published, fp, asked.who)


def _measure(record: Record, slug: str, mutate: Mutate) -> tuple[RunResult, list[Published]]:
    listed = {
        "title": record.title,
        "kind": "radical" if record.kind == "radical" else "incremental",
        "diff": record.diff,
        "rationale": record.rationale or "",
        "category": record.category,
    }
    with tempfile.TemporaryDirectory(prefix="mutbot-again-") as folder:
        path = Path(folder) / "candidates.json"
        path.write_text(json.dumps([listed]), encoding="utf-8")
        return mutate(f"file:{path}", {record.fingerprint: slug} if slug else {})


def rebench_reply(result: RunResult, published: list[Published], fp: str, who: str) -> str:
    base = result.base_commit[:7]
    found = next((c for c in result.candidates if c.fingerprint == fp), None)
    if found is None:
        notes = "; ".join(result.proposal.notes) if result.proposal else ""
        return f"Asked by {who}: nothing was measured. {defuse(one_line(notes))}".rstrip()
    reason = defuse(one_line(found.reason))
    if found.stage == "apply":
        return (
            f"Asked by {who}: this change no longer applies at {base} ({reason}). The pull "
            "request is left as it was: close it, or bring its branch up to date by hand."
        )
    if found.verdict != "propose":
        return (
            f"Asked by {who}: measured again at {base}: {found.verdict}, {reason}. The pull "
            "request is left as it was."
        )
    done = next((p for p in published if p.slug == found.slug), None)
    what = f"{done.action}: {defuse(one_line(done.reason))}" if done else "not published"
    return f"Asked by {who}: measured again at {base}: {reason}. Pull request {what}."


def ignore(asked: Asked, number: int) -> str:
    """Closes the pull request; its change is never proposed again. The reply (already said
    on the pull request when it was closed)."""
    pull, _, fp = mutbot_pull(asked.gh, number, "/mutate ignore")
    if pull.merged:
        return f"#{number} is merged: `/mutate revert` opens a pull request that reverts it."
    if pull.state != "open":
        return f"#{number} is closed already: mutbot does not propose a closed change again."
    _close_ignored(asked, pull, fp, "")
    return ""


def _close_ignored(asked: Asked, pull: PullInfo, fp: str, why: str) -> None:
    asked.ledger.append([_entry("ignored", fp, pull, f"ignored by {asked.who}", outcome="ignored")])
    asked.gh.comment(
        pull.number,
        f"Ignored, as asked by {asked.who}{why}: mutbot closes this pull request and never "
        "proposes this change again (recorded in its ledger; a refusal on the dashboard can be "
        "forgotten).",
    )
    asked.gh.close_pull(pull.number)


def ignore_setting(asked: Asked, number: int, name: str, known: Iterable[str]) -> str:
    """Records that setting `name` is never changed again; closes this pull request too when it
    changes it. `known`: the settings the packs read in the repository."""
    pull, data, fp = mutbot_pull(asked.gh, number, "/mutate ignore setting")
    touched = from_data(data.get("touches"))
    here = sorted(touched.settings) if touched else []
    names = {*here, *known}
    if name not in names:
        close = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(quote(c) for c in close)}?" if close else ""
        listed = ", ".join(quote(s) for s in here) or "none the packs know"
        return (
            f"{quote(name)} is no setting mutbot reads in this repository.{hint} This pull "
            f"request changes: {listed}. Nothing was recorded."
        )
    if name in ignored_settings(asked.ledger.read()):
        return f"{quote(name)} is ignored already: mutbot never changes it."
    note = f"setting ignored by {asked.who}"
    asked.ledger.append([_entry("setting-ignored", fp, pull, note, setting=name)])
    said = (
        f"mutbot never changes {quote(name)} again: candidates that do are dropped before "
        "they are measured."
    )
    if pull.state == "open" and name in here:
        _close_ignored(asked, pull, fp, f" (it changes {quote(name)})")
        return said + " This pull request changes it, so it is closed."
    return said


def act_on(asked: Asked, tick: Tick, mutate: Mutate, log: Log) -> None:
    """One newly ticked box of the dashboard: exactly one action."""
    if tick.action == "rebench":
        number = int(tick.target)
        try:
            reply = rebench(asked, number, mutate)
        except GitHubError as exc:  # not a mutbot pull request (any more), or none at all
            log(f"dashboard: #{number}: {exc}")
            return
        asked.gh.comment(number, reply)
        log(f"dashboard: #{number} measured again: {reply}")
    elif tick.action == "measure":
        record = fold(asked.ledger.read()).get(tick.target)
        if record is None or record.verdict != "needs-review" or not record.diff:
            log(f"dashboard: {tick.target} is no candidate waiting for review")
            return
        result, published = _measure(record, "", mutate)
        said = rebench_reply(result, published, tick.target, asked.who)
        log(f"dashboard: {tick.target} measured again: {said}")
    else:
        log(f"dashboard: {_forget(asked, tick.target)}")


def _forget(asked: Asked, target: str) -> str:
    entries = asked.ledger.read()
    if target.startswith("setting:"):
        ignored = ignored_settings(entries)
        name = next((n for n in ignored if setting_id(n) == target.removeprefix("setting:")), None)
        if name is None:
            return f"{target}: no ignored setting has this id"
        asked.ledger.append(
            [
                _entry(
                    "forgotten",
                    ignored[name].fingerprint,
                    None,
                    f"forgotten by {asked.who}",
                    setting=name,
                )
            ]
        )
        return f"setting {name}: may be changed again"
    record = fold(entries).get(target)
    if record is None or record.outcome not in FORGETTABLE:
        return f"{target}: no refusal to forget"
    asked.ledger.append([_entry("forgotten", target, None, f"forgotten by {asked.who}")])
    return f"{record.title}: its refusal is forgotten; it may be proposed again"


def _entry(event: str, fp: str, pull: PullInfo | None, note: str, **fields: object) -> Entry:
    where = {"pr_number": pull.number, "pr_url": pull.url, "branch": pull.head} if pull else {}
    return Entry.model_validate(
        {"event": event, "at": now(), "fingerprint": fp, "note": note, **where, **fields}
    )


def keep_slugs(result: RunResult, slugs: Mapping[str, str]) -> RunResult:
    """The run's candidates renamed to the slugs their pull requests' branches have (a run
    names a candidate from its title, and a title can collide with another's)."""
    if not slugs:
        return result
    renamed = {c.slug: slugs[c.fingerprint] for c in result.candidates if c.fingerprint in slugs}
    return result.model_copy(
        update={
            "candidates": [
                c.model_copy(update={"slug": renamed.get(c.slug, c.slug)})
                for c in result.candidates
            ],
            "ranking": [renamed.get(s, s) for s in result.ranking],
            "pareto": [renamed.get(s, s) for s in result.pareto],
        }
    )
