"""The submit tool's schema, and turning its input into candidates that apply and pass policy
(pure). Model output is data: every field is validated, every diff is computed here from the
request's files, and each refusal is an error exact enough to send back for repair."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mutbot.candidates import Candidate
from mutbot.edits import EditError, diff_files, replace_once
from mutbot.errors import StageFailure
from mutbot.globs import matches
from mutbot.policy import check_diff
from mutbot.proposers.base import CATEGORIES, ProposalRequest

if TYPE_CHECKING:
    from mutbot.packs.view import View

TOOL_NAME = "submit_candidates"
Kind = Literal["incremental", "radical"]


class EditIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    search: str
    replace: str


class FileIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    content: str


class CandidateIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1, max_length=200)
    rationale: str = ""
    kind: Kind
    category: str = "other"
    risk: float | None = Field(None, ge=0, le=10)
    edits: list[EditIn] = Field(default_factory=list)
    files: list[FileIn] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _known(cls, value: str) -> str:
        if value != "other" and value not in CATEGORIES:
            raise ValueError(f"expected one of {', '.join([*CATEGORIES, 'other'])}")
        return value


def tool_definition() -> dict[str, Any]:
    """The tool the model must call (forced by tool_choice); its input is the candidate list."""
    edit = {
        "type": "object",
        "properties": {p: {"type": "string"} for p in ("path", "search", "replace")},
        "required": ["path", "search", "replace"],
        "additionalProperties": False,
    }
    whole = {
        "type": "object",
        "properties": {p: {"type": "string"} for p in ("path", "content")},
        "required": ["path", "content"],
        "additionalProperties": False,
    }
    candidate = {
        "type": "object",
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "rationale": {"type": "string"},
            "kind": {"type": "string", "enum": ["incremental", "radical"]},
            "category": {"type": "string", "enum": [*CATEGORIES, "other"]},
            "risk": {"type": "number", "minimum": 0, "maximum": 10},
            "edits": {"type": "array", "items": edit},
            "files": {"type": "array", "items": whole},
        },
        "required": ["title", "rationale", "kind", "category"],
        "additionalProperties": False,
    }
    return {
        "name": TOOL_NAME,
        "input_schema": {
            "type": "object",
            "properties": {"candidates": {"type": "array", "items": candidate}},
            "required": ["candidates"],
        },
    }


@dataclass(frozen=True)
class Refused:
    title: str
    errors: tuple[str, ...]


@dataclass
class Checked:
    accepted: list[Candidate] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    general: list[str] = field(default_factory=list)  # about the submission as a whole

    @property
    def ok(self) -> bool:
        return not self.refused and not self.general


def check_submission(raw: object, request: ProposalRequest) -> Checked:
    """Every candidate of one tool input, each validated on its own."""
    out = Checked()
    items = raw.get("candidates") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        out.general.append('expected {"candidates": [...]}, a list of candidate objects')
        return out
    for index, item in enumerate(items):
        title = _title_of(item, index)
        try:
            parsed = CandidateIn.model_validate(item)
        except ValidationError as exc:
            out.refused.append(Refused(title, _pydantic_errors(index, exc)))
            continue
        candidate, errors = build_candidate(parsed, request)
        if candidate is None:
            out.refused.append(Refused(title, errors))
        else:
            out.accepted.append(candidate)
    return out


def build_candidate(
    item: CandidateIn, request: ProposalRequest
) -> tuple[Candidate | None, tuple[str, ...]]:
    """The candidate with its diff computed from the request's files, or the errors."""
    old = {f.path: f.text for f in request.files}
    new: dict[str, str] = {}
    errors: list[str] = []
    if not item.edits and not item.files:
        errors.append("no edits and no files: the candidate changes nothing")
    for whole in item.files:
        if _allowed(whole.path, old, errors):
            new[_clean(whole.path)] = whole.content
    for edit in item.edits:
        path = _clean(edit.path)
        if not _allowed(edit.path, old, errors):
            continue
        try:
            new[path] = replace_once(new.get(path, old[path]), edit.search, edit.replace, path)
        except EditError as exc:
            errors.append(str(exc))
    if errors:
        return None, tuple(errors)
    diff = diff_files({p: old[p] for p in new}, new)
    if not diff:
        return None, ("the result is identical to the current files: nothing changes",)
    try:
        check_diff(diff, request.rules)
    except StageFailure as exc:
        return None, (exc.reason,)
    view = request.survey.view if request.survey else None
    kept = kept_settings_changed(old, new, tuple(request.config.propose.keep), view)
    if kept:
        return None, tuple(kept)
    candidate = Candidate(
        title=item.title,
        rationale=item.rationale,
        kind=item.kind,
        diff=diff,
        risk=item.risk,
        category=None if item.category == "other" else item.category,
    )
    return candidate, ()


def kept_settings_changed(
    old: dict[str, str], new: dict[str, str], keep: tuple[str, ...], view: View | None = None
) -> list[str]:
    """An error for every FILE:KEY of `propose.keep` that the new texts change: KEY as a
    settings file names it (`server.threads`), or as the packs name the setting (`workers`,
    `gunicorn.workers`, `ENV WORKERS` in a Dockerfile) when `view` is given."""
    if not keep:
        return []
    changed_keys = _changed_keys()
    errors: list[str] = []
    for path in sorted(new):
        wanted = {
            key for file, _, key in (k.partition(":") for k in keep) if matches(path, (file,))
        }
        if not wanted:
            continue
        try:
            hit = changed_keys(path, old[path], new[path]) | _pack_names(view, path, old, new)
            hit &= wanted
        except ValueError as exc:
            errors.append(f"{path}: cannot read its settings after the change: {exc}")
            continue
        errors += [f"{path}: {key} must stay unchanged (propose.keep)" for key in sorted(hit)]
    return errors


def _pack_names(view: View | None, path: str, old: dict[str, str], new: dict[str, str]) -> set[str]:
    """The settings the packs see change in `path`, by key and by name."""
    if view is None:
        return set()
    from mutbot.packs.guard import check  # late: the packs import the proposers' records

    changed = check(view, {path: old.get(path)}, {path: new[path]}).changed
    return {c.key for c in changed} | {c.key.split(".", 1)[1] for c in changed if "." in c.key}


def _changed_keys() -> Callable[[str, str, str], set[str]]:
    from mutbot.knobs import changed_keys  # late: only this check parses settings files

    return changed_keys


def _clean(path: str) -> str:
    return path.strip().removeprefix("./")


def _allowed(raw: str, old: dict[str, str], errors: list[str]) -> bool:
    if _clean(raw) in old:
        return True
    allowed = ", ".join(sorted(old))
    errors.append(f"{raw!r} is not a file you may edit; the allowed paths are: {allowed}")
    return False


def _title_of(item: object, index: int) -> str:
    title = item.get("title") if isinstance(item, dict) else None
    return title if isinstance(title, str) and title else f"candidate {index + 1}"


def _pydantic_errors(index: int, exc: ValidationError) -> tuple[str, ...]:
    lines = []
    for error in exc.errors():
        where = "/".join(str(part) for part in ("candidates", index, *error["loc"]))
        lines.append(f"{where}: {error['msg']}")
    return tuple(lines)
