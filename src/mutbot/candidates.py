"""The candidate format every proposer produces and `--mutations FILE` reads."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from mutbot import untrusted
from mutbot.errors import CandidateError

MAX_FILE = 16 * 1024**2  # bytes: fifty candidates' diffs are a few hundred kilobytes


# Header lines that change a file without a hunk. (`new file mode` is left out: it came with
# `--- /dev/null` already, and fingerprints of earlier candidates must not change.)
_WHOLE_FILE = ("rename from ", "rename to ", "copy from ", "copy to ", "old mode ", "new mode ")


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    rationale: str = ""
    kind: Literal["incremental", "radical"]
    diff: str
    risk: float | None = Field(None, ge=0, le=10)
    category: str | None = None  # the opportunity it addresses (see mutbot.proposers.base)

    @property
    def fingerprint(self) -> str:
        """Same change, same fingerprint: the files and hunk lines, without index lines,
        timestamps or trailing white space."""
        lines, in_hunk = [], False
        for line in self.diff.splitlines():
            if line.startswith("@@"):
                in_hunk = True
            elif line.startswith("diff --git"):
                in_hunk = False
            elif in_hunk and line[:1] in ("+", "-", " ") and line.rstrip():
                lines.append(line.rstrip())
            elif not in_hunk and line.startswith(("--- ", "+++ ")):
                lines.append(line.split("\t")[0])  # which file, without timestamps
            elif not in_hunk and line.startswith(_WHOLE_FILE):  # a rename has no hunk at all
                lines.append(line.rstrip())
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:12]


_LIST = TypeAdapter(list[Candidate])


def load_candidates(path: Path) -> list[Candidate]:
    """A JSON list of candidates, or one unified diff (`.diff`, `.patch`) as one candidate."""
    try:
        text = untrusted.read(path, MAX_FILE).decode("utf-8")
    except OSError as exc:
        raise CandidateError(f"{path}: cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CandidateError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from exc
    except ValueError as exc:
        raise CandidateError(f"{path}: {exc}; candidates are diffs, not data") from exc
    if path.suffix in (".diff", ".patch"):
        if not text.strip():
            raise CandidateError(f"{path}: the diff is empty; nothing to measure")
        return [Candidate(title=path.stem[:200], kind="incremental", diff=text)]
    try:
        data = untrusted.loads(text)
    except untrusted.JsonError as exc:
        raise CandidateError(f"{path}: {exc}") from exc
    if data == []:
        raise CandidateError(f"{path}: the list is empty; nothing to measure")
    try:
        return _LIST.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "/".join(str(part) for part in first["loc"])[:100] or "(top level)"
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise CandidateError(
            f"{path}: {where}: {first['msg']}; expected a JSON list of "
            f'{{"title", "rationale", "kind", "diff"}}{more}'
        ) from exc


def slugify(title: str, taken: set[str]) -> str:
    """A branch- and file-safe name, unique within a run."""
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].rstrip("-") or "candidate"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug
