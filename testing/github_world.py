"""A repository on a fake GitHub: a bare remote, the workflow's checkout of the example, and the
real GitHub client pointed at the in-process server (for the bot's tests)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mutbot.candidates import Candidate
from mutbot.github.client import GitHub
from mutbot.results import CandidateResult, RunResult
from testing.fake_github import TOKEN, FakeGitHub, make_remote, serve_github
from testing.records import candidate, run
from testing.repos import EXAMPLE, example_candidates, git

REPO = "octo-org/pricing"


@dataclass
class World:
    remote: Path  # the bare repository GitHub would hold
    checkout: Path  # GITHUB_WORKSPACE
    fake: FakeGitHub

    def client(self) -> GitHub:
        return GitHub(TOKEN, REPO, self.fake.url, timeout=5, backoff=0, write_interval=0)

    def head(self) -> str:
        return git(self.checkout, "rev-parse", "HEAD").strip()

    def commit_on_main(self, name: str, text: str) -> str:
        (self.checkout / name).write_text(text)
        git(self.checkout, "add", "--all")
        git(self.checkout, "commit", "--quiet", "-m", f"add {name}")
        git(self.checkout, "push", "--quiet", "origin", "main")
        return self.head()

    def variables(self, folder: Path, event: str, payload: object, **extra: str) -> dict[str, str]:
        """What the Actions runner gives `mutbot action` for this event (written to a file)."""
        return action_variables(folder, event, payload, self.fake.url, self.checkout, **extra)

    def branches(self) -> list[str]:
        out = git(self.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(out.split())


def action_variables(
    folder: Path, event: str, payload: object, api_url: str, workspace: Path, **extra: str
) -> dict[str, str]:
    """GITHUB_* variables for `mutbot action`; `payload` as bytes is written as it is."""
    path = folder / "event.json"
    path.write_bytes(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    return {
        "GITHUB_TOKEN": TOKEN,
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": api_url,
        "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_OUTPUT": str(folder / "output"),
        "GITHUB_STEP_SUMMARY": str(folder / "summary.md"),
        **extra,
    }


@contextmanager
def github_world(root: Path) -> Iterator[World]:
    remote, checkout = make_remote(root / "git")
    shutil.copytree(
        EXAMPLE,
        checkout,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".mutbot", "__pycache__"),
    )
    git(checkout, "add", "--all")
    git(checkout, "commit", "--quiet", "-m", "the pricing service")
    git(checkout, "push", "--quiet", "origin", "main")
    with serve_github(REPO, remote=remote) as fake:
        fake.add_collaborator("maintainer", "maintain")
        fake.add_collaborator("reader", "read")
        yield World(remote, checkout, fake)


def proposed(title: str, factor: float = 0.6) -> CandidateResult:
    """A judged, proposed record of one of the example's candidates (its real diff)."""
    listed = {str(c["title"]): c for c in example_candidates()}[title]
    real = Candidate.model_validate(listed)
    slug = title.lower().replace(" ", "-")[:30]
    record = candidate(slug, title=title, factor=factor, rationale=real.rationale, diff=real.diff)
    return record.model_copy(update={"fingerprint": real.fingerprint, "kind": real.kind})


def results(base_commit: str, *records: CandidateResult) -> RunResult:
    ranked = [r.slug for r in records if r.verdict == "propose"]
    return run(list(records), ranked).model_copy(update={"base_commit": base_commit})


def publish_now(world: World, run: RunResult, max_prs: int = 3) -> list[tuple[str, str, str]]:
    """`publish` against the world's fake GitHub and remote: (slug, action, reason) each, with
    one log line per outcome."""
    from mutbot.github.publish import Target, publish  # the module under test, imported late
    from mutbot.github.remote import Remote

    lines: list[str] = []
    with world.client() as gh:
        done = publish(
            run, gh, Remote(world.checkout), Target(world.checkout, "main", max_prs), lines.append
        )
    assert len(lines) == len(done)
    return [(p.slug, p.action, p.reason) for p in done]
