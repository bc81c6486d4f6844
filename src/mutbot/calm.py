"""Less noise at the source (issue 13): settle after builds, start each trial on a calm machine.

`MachineQuiet.settle()` syncs and waits until the disk has stopped flushing image layers;
`MachineQuiet.wait()` waits until no one else keeps the CPU or the disk busy. Both are bounded
in time and in looks, never raise on odd or missing /proc files (the figure is then "not
measured"), and return a frozen record of what they did. A machine that stays busy through
`patience` waits in a row is someone else's long job: later waits are cut to `busy_wait`
until it is calm again. `NoQuiet` does nothing, for tests and for benchmarks that switch it
off. The decisions live in calm_rules.py."""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mutbot.calm_rules import (
    Figures,
    Reading,
    Thresholds,
    busy_reason,
    disk_busy_reason,
    figures,
    measured,
    parse_diskstats,
    parse_pressure,
    parse_stat,
)

__all__ = [
    "Calm",
    "MachineQuiet",
    "NoQuiet",
    "Quiet",
    "Settled",
    "Thresholds",
    "read_proc",
]


@dataclass(frozen=True)
class Calm:
    """What wait() did before a trial."""

    calm: bool  # False: started anyway, or nothing could be measured
    waited: float  # seconds, sampling included
    looks: int
    figures: Figures | None  # the last look
    note: str  # "calm", "calm after 3.1 s (was: 80% CPU busy)", "started anyway: …"


@dataclass(frozen=True)
class Settled:
    """What settle() did after the builds."""

    quiet: bool  # False: timed out, or nothing could be measured
    waited: float
    synced: bool  # sync() finished within the bound (False: failed or still running)
    looks: int
    written_mb: float | None  # written while settling
    figures: Figures | None  # the last look
    note: str


class Quiet(Protocol):
    def settle(self) -> Settled: ...

    def wait(self) -> Calm: ...


class NoQuiet:
    """Switched off: never waits."""

    def settle(self) -> Settled:
        return Settled(True, 0.0, False, 0, None, None, "not settled (switched off)")

    def wait(self) -> Calm:
        return Calm(True, 0.0, 0, None, "not checked (switched off)")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii", errors="replace")
    except OSError:  # absent, or EOPNOTSUPP when the kernel was booted with psi=0
        return None


def read_proc(proc: Path = Path("/proc"), clock: Callable[[], float] = time.monotonic) -> Reading:
    """One reading of this machine; a file that is missing or unparsable gives None."""
    stat = _read(proc / "stat")
    pressure_text = _read(proc / "pressure" / "io")
    disks = _read(proc / "diskstats")
    pressure = parse_pressure(pressure_text) if pressure_text is not None else None
    return Reading(
        at=clock(),
        cpu=parse_stat(stat) if stat is not None else None,
        io_stall_us=pressure[1] if pressure else None,
        io_avg10=pressure[0] if pressure else None,
        sectors_written=parse_diskstats(disks) if disks is not None else None,
    )


class MachineQuiet:
    """The real thing. `reader`, `sleep`, `clock` and `sync` are seams for tests."""

    def __init__(
        self,
        limits: Thresholds | None = None,
        *,
        reader: Callable[[], Reading] = read_proc,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        sync: Callable[[], None] = os.sync,
    ) -> None:
        self.limits = limits or Thresholds()
        self._reader = reader
        self._sleep = sleep
        self._clock = clock
        self._sync = sync
        self._given_up = 0  # waits in a row that ended in "started anyway"

    def wait(self) -> Calm:
        limits = self.limits
        started = self._clock()
        first_reason: str | None = None
        looks = 0
        seen: Figures | None = None
        patient = self._given_up < limits.patience
        budget = limits.max_wait if patient else limits.busy_wait
        for looks, seen in enumerate(self._looks(budget), start=1):
            if not measured(seen):
                return Calm(
                    False,
                    self._since(started),
                    looks,
                    seen,
                    "not measured: /proc/stat, /proc/pressure/io and /proc/diskstats unreadable",
                )
            reason = busy_reason(seen, limits)
            if reason is None:
                waited = self._since(started)
                note = "calm" if looks == 1 else f"calm after {waited:.1f} s (was: {first_reason})"
                self._given_up = 0
                return Calm(True, waited, looks, seen, note)
            first_reason = first_reason or reason
        waited = self._since(started)
        last = busy_reason(seen, limits) if seen is not None else None
        note = f"started anyway: {last or 'no look'} after {waited:.0f} s"
        if not patient:
            note += f" (busy through {self._given_up} waits in a row: waiting less)"
        self._given_up += 1
        return Calm(False, waited, looks, seen, note)

    def settle(self) -> Settled:
        limits = self.limits
        started = self._clock()
        synced = self._sync_within(limits.max_settle)
        if not synced and self._since(started) >= limits.max_settle:
            note = f"sync not finished after {limits.max_settle:g} s"
            return Settled(False, self._since(started), False, 0, None, None, note)
        looks = 0
        written = 0.0
        seen: Figures | None = None
        budget = max(limits.max_settle - self._since(started), limits.sample)
        for looks, seen in enumerate(self._looks(budget), start=1):
            if seen.write_mb_s is None and seen.io_some is None:
                note = "not measured: no /proc/diskstats or /proc/pressure/io"
                return Settled(False, self._since(started), synced, looks, None, seen, note)
            written += (seen.write_mb_s or 0.0) * seen.seconds
            if disk_busy_reason(seen, limits) is None:
                waited = self._since(started)
                return Settled(True, waited, synced, looks, written, seen, "quiet")
        waited = self._since(started)
        last = disk_busy_reason(seen, limits) if seen is not None else None
        note = f"still busy after {waited:.0f} s: {last or 'no look'}"
        return Settled(False, waited, synced, looks, written, seen, note)

    def _sync_within(self, seconds: float) -> bool:
        """sync() in a thread: a disk with gigabytes dirty must not hold the run past the
        bound (the thread is left to finish on its own)."""
        done = threading.Event()
        failed: list[OSError] = []

        def run() -> None:
            try:
                self._sync()
            except OSError as exc:
                failed.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, name="mutbot-calm-sync", daemon=True).start()
        return done.wait(seconds) and not failed

    def _looks(self, budget: float) -> Iterator[Figures]:
        """Figures of successive sample windows until `budget` seconds have gone: at most
        ceil(budget / sample) + 1 looks, however the clock behaves."""
        deadline = self._clock() + budget
        before = self._reader()
        for _ in range(math.ceil(budget / self.limits.sample) + 1):
            if self._clock() >= deadline:
                return
            self._sleep(self.limits.sample)
            after = self._reader()
            yield figures(before, after)
            before = after

    def _since(self, started: float) -> float:
        return max(self._clock() - started, 0.0)
