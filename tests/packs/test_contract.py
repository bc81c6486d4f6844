"""Every registered pack through the same interface, on every sample repository (pre-commit's
language helpers are the model): what it sees is typed and in its domain, a setting not written
reads its default, only measured targets get setters, one finding per fix, every move proves
itself by a re-scan and never touches a `never` setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs import PACKS, Pack
from mutbot.packs.guard import check
from mutbot.packs.model import Move, Seen, Setting, apply_edits
from mutbot.packs.survey import overlay, settings, survey
from mutbot.packs.view import View
from mutbot.proposers.base import CATEGORIES
from testing.packs import sample_view, samples

SAMPLES = samples()
TYPES = {"int": int, "float": (int, float), "bool": bool, "enum": str, "str": str}
TYPES |= {"size": (int, float, str), "duration": (int, float, str)}


def in_domain(setting: Setting, value: object) -> bool:
    if value is None:
        return True
    if setting.type in ("int", "float") and isinstance(value, bool):
        return False
    if not isinstance(value, TYPES[setting.type]):
        return False
    if setting.choices and setting.type == "enum":
        return value in setting.choices
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high = setting.low, setting.high
        return (low is None or value >= low) and (high is None or value <= high)
    return True


def test_the_registry_names_each_pack_by_its_own_name() -> None:
    assert PACKS, "no pack registered"
    for name, pack in PACKS.items():
        assert pack.name == name
        for key, setting in pack.settings.items():
            assert setting.name == key
            assert setting.safety in ("tune", "prove", "never")
            assert in_domain(setting, setting.default), (name, key, setting.default)


@pytest.fixture(scope="module", params=SAMPLES, ids=[p.name for p in SAMPLES])
def view(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> View:
    folder: Path = request.param
    return sample_view(folder, tmp_path_factory.mktemp(folder.name))


@pytest.mark.parametrize("pack", list(PACKS.values()), ids=list(PACKS))
def test_what_a_pack_sees(view: View, pack: Pack) -> None:
    for seen in pack.scan(view):
        assert seen.pack == pack.name
        assert pack.settings[seen.setting.name] == seen.setting
        assert in_domain(seen.setting, seen.value), seen
        if not seen.written:
            assert seen.value == seen.setting.default, seen
        else:
            assert seen.site is not None, seen
        if seen.setter is not None:
            assert seen.site is not None and view.editable(seen.site.path), seen


def moves_of(view: View, pack: Pack) -> list[Move]:
    seen = pack.scan(view)
    findings = pack.detect(view, seen)
    titles = [f.title for f in findings]
    assert len(titles) == len(set(titles)), f"two findings with one title: {titles}"
    for finding in findings:
        assert finding.category in CATEGORIES
        assert finding.pack == pack.name
    return [m for f in findings for m in f.fix] + pack.explore(view, seen)


def keys(seen: dict[str, Seen]) -> dict[str, object]:
    return {k: s.value for k, s in seen.items()}


@pytest.mark.parametrize("pack", list(PACKS.values()), ids=list(PACKS))
def test_every_move_proves_itself_and_touches_no_never_setting(view: View, pack: Pack) -> None:
    before = settings(view)
    files = {p: t for p in view.targets if (t := view.repo.read(p)) is not None}
    for move in moves_of(view, pack):
        assert move.seen.setting.safety != "never", move
        assert move.edits and all(view.editable(e.path) for e in move.edits), move
        assert in_domain(move.seen.setting, move.value), move
        after = settings(overlay(view, apply_edits(files, move.edits)))
        key = move.seen.key
        assert after[key].written and after[key].value == move.value, (move, after.get(key))
        changed = {k for k in before.keys() | after.keys() if k != key}
        changed = {
            k
            for k in changed
            if before.get(k) is None or after.get(k) is None or before[k].value != after[k].value
        }
        assert not changed, f"{move.change} also changes {sorted(changed)}"
        new = apply_edits(files, move.edits)
        guarded = check(view, {p: files[p] for p in new}, dict(new))
        assert guarded.ok and guarded.reaches != ("none",), (move.change, guarded.problem)


def test_the_survey_of_every_sample_fails_no_pack(view: View) -> None:
    found = survey(view)
    assert found.notes == ()
    titles = [f.title for f in found.findings]
    assert len(titles) == len(set(titles))
