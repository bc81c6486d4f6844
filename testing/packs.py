"""Helpers for pack tests: a View over in-memory files, and the read-back proof of a move
(apply its edits, scan again: the setting reads the new value and nothing else changed)."""

from __future__ import annotations

from pathlib import Path

from mutbot.config import load_config
from mutbot.discover.model import Repo
from mutbot.globs import matches
from mutbot.init import starter_config
from mutbot.packs import Pack
from mutbot.packs.model import Move, Seen, apply_edits
from mutbot.packs.view import Sandbox, View, build, from_config
from mutbot.repofiles import list_files, repo_at

ROOT = Path(__file__).resolve().parents[1]


def view_of(
    files: dict[str, str], sandbox: Sandbox | None = None, targets: set[str] | None = None
) -> View:
    """Every file a target unless `targets` says which."""
    chosen = frozenset(files if targets is None else targets)
    return build(Repo(sorted(files), files.get), sandbox or Sandbox(), chosen)


def by_key(seen: list[Seen]) -> dict[str, Seen]:
    return {s.key: s for s in seen}


def values(seen: list[Seen]) -> dict[str, object]:
    return {s.key: s.value for s in seen}


def applied(files: dict[str, str], move: Move) -> dict[str, str]:
    return {**files, **apply_edits(files, move.edits)}


def proves(pack: Pack, files: dict[str, str], move: Move, sandbox: Sandbox | None = None) -> None:
    """Apply the move, scan again: its setting is written with the new value, every other
    setting reads as before."""
    before = values(pack.scan(view_of(files, sandbox)))
    after_seen = by_key(pack.scan(view_of(applied(files, move), sandbox)))
    key = move.seen.key
    assert key in after_seen, f"{key} is not seen after the move"
    assert after_seen[key].written and after_seen[key].value == move.value, after_seen[key]
    others = {k: s.value for k, s in after_seen.items() if k != key}
    assert others == {k: v for k, v in before.items() if k != key}


def sample_files(folder: Path, *, config: bool = True) -> dict[str, str]:
    """A sample repository's files as mutbot lists them (git's view); `config=False` leaves
    its `.mutbot.yml` out."""
    names = list_files(folder)
    return {p: (folder / p).read_text() for p in names if config or p != ".mutbot.yml"}


def sample_view(folder: Path, tmp: Path) -> View:
    """A sample repository as a new user's run sees it: its own `.mutbot.yml`, else the one
    `mutbot init` writes; the targets are the config's."""
    repo = repo_at(folder)
    config_path = folder / ".mutbot.yml"
    if not config_path.is_file():
        config_path = tmp / ".mutbot.yml"
        config_path.write_text(starter_config(list(repo.files), repo.read))
    config = load_config(config_path)
    targets = frozenset(f for f in repo.files if matches(f, tuple(config.targets)))
    return build(repo, from_config(config.sandbox), targets)


def samples() -> list[Path]:
    """Every sample repository: the packs' own, init's, and the bundled examples."""
    found = sorted(p for p in (ROOT / "testing" / "packs").iterdir() if p.is_dir())
    found += sorted(p for p in (ROOT / "testing" / "samples").iterdir() if p.is_dir())
    return [*found, ROOT / "examples" / "pricing", ROOT / "examples" / "notes"]
