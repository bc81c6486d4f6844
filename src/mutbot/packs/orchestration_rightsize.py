"""Right-sizing the measured service's memory limit from the baseline's measured peak (pure).
A limit at least twice what the service needs (twice the peak, at least 64 MiB, rounded up to
a power of two) is lowered to that, in the file's own units. The candidate's trials run with
the new limit, so the run measures what the smaller limit does to latency and errors."""

from __future__ import annotations

import math
import re

from mutbot.discover import compose
from mutbot.packs.model import Finding, Move, Seen
from mutbot.packs.orchestration_detect import amount
from mutbot.packs.view import View

PACK = "orchestration"
PEAK = "memory_peak_mb"
FLOOR_MIB = 64  # below this a limit saves nothing worth a candidate
MIB = 2.0**20
_WRITTEN = re.compile(r"\s*\d+(?:\.\d+)?\s*([A-Za-z]*)\s*")


def target_mib(peak_mib: float) -> int:
    """Twice the peak, at least 64 MiB, rounded up to a power of two."""
    need = max(2 * peak_mib, FLOOR_MIB)
    return int(2 ** math.ceil(math.log2(need)))


def findings(view: View, seen: list[Seen]) -> list[Finding]:
    """One finding per memory limit of the measured service that is far above its need."""
    peak = (view.baseline or {}).get(PEAK)
    if peak is None or not math.isfinite(peak) or peak <= 0:
        return []
    target = target_mib(peak)
    out = []
    for s in seen:
        if not s.setting.name.startswith("memory_limit@") or s.reaches != "resources":
            continue
        if s.setter is None or not s.written or s.site is None:
            continue
        written = str(s.value)
        current = amount(written, s.site.path)
        if current is None or current < 2 * target * MIB:
            continue
        text = written_as(target, written, s.site.path)
        rule = f"twice the measured peak ({peak:.0f} MiB), at least {FLOOR_MIB} MiB, rounded up"
        move = Move(s, text, f"{rule}: {target} MiB", s.setter(text))
        why = (
            f"the memory limit {written} ({current / MIB:.0f} MiB) is more than twice what the "
            f"service needs: peak {peak:.0f} MiB under load"
        )
        title = f"Lower the memory limit {written} → {text} ({s.site})"
        out.append(Finding("requests-far-from-use", PACK, s.site, why, title, (move,), s.key))
    return out


def written_as(mib: int, written: str, path: str) -> str:
    """`mib` in the units `written` uses: a compose size keeps its letter's case and suffix
    (`1G` → `256M`, `1gb` → `256mb`), a Kubernetes quantity is binary (`2Gi` → `256Mi`), plain
    bytes stay bytes."""
    found = _WRITTEN.fullmatch(written)
    unit = found[1] if found else ""
    if not unit:
        return str(mib * 2**20)
    whole_g = mib >= 1024 and mib % 1024 == 0
    number = mib // 1024 if whole_g else mib
    if not compose.is_compose(path):
        return f"{number}{'Gi' if whole_g else 'Mi'}"
    letter = "g" if whole_g else "m"
    return f"{number}{letter.upper() if unit[0].isupper() else letter}{unit[1:]}"
