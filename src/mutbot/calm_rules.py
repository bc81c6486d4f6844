"""Pure part of calm.py: parse /proc/stat, /proc/diskstats and /proc/pressure/* text, turn two
readings into figures, and decide whether those figures are calm (or the disk quiet).

Nothing here reads a file or the clock, so it is tested with literal samples. Every parser
answers None for text it does not understand: a missing figure means "not measured", never an
error."""

from __future__ import annotations

import re
from dataclasses import dataclass

# /proc/diskstats rows that are not disks of their own: counting them would double the writes
# of the disk underneath (device mapper, md, loop files) or count memory (ram, zram)
_VIRTUAL = re.compile(r"(loop|ram|zram|dm-|md|sr|fd|nbd)\d")
_PARTITION_TAIL = re.compile(r"p?\d+")
SECTOR_BYTES = 512  # diskstats counts 512-byte sectors whatever the device's own size


@dataclass(frozen=True)
class CpuTimes:
    """Aggregate jiffies of all cores since boot."""

    busy: int
    total: int


@dataclass(frozen=True)
class Reading:
    """One look at /proc; None where a file was absent or unreadable."""

    at: float  # monotonic seconds
    cpu: CpuTimes | None
    io_stall_us: int | None  # /proc/pressure/io `some total=`
    io_avg10: float | None  # /proc/pressure/io `some avg10=`, for the record only (it lags)
    sectors_written: int | None


@dataclass(frozen=True)
class Figures:
    """What happened between two readings."""

    seconds: float
    cpu_busy: float | None  # share of all cores, 0..1
    io_some: float | None  # share of the time some task stalled on I/O, 0..1
    write_mb_s: float | None

    def describe(self) -> str:
        parts = [
            f"{self.cpu_busy:.0%} CPU busy" if self.cpu_busy is not None else "CPU not measured",
            f"I/O pressure {self.io_some:.0%}"
            if self.io_some is not None
            else "I/O pressure not measured",
            f"disk writes {self.write_mb_s:.1f} MB/s"
            if self.write_mb_s is not None
            else "disk writes not measured",
        ]
        return ", ".join(parts)


@dataclass(frozen=True)
class Thresholds:
    """Limits for "calm" (wait_calm) and "quiet disk" (settle), with their time bounds."""

    cpu_busy: float = 0.25
    io_some: float = 0.10
    # used for calm only when the kernel has no PSI; always used for settle
    write_mb_s: float = 8.0
    sample: float = 0.5  # seconds per look
    max_wait: float = 15.0  # wait_calm gives up and starts anyway after this
    max_settle: float = 30.0  # settle gives up after this
    # a machine busy through `patience` waits in a row is busy for good (another job): waiting
    # the full time before every trial would only make the run longer, so wait this long instead
    patience: int = 2
    busy_wait: float = 2.0

    def __post_init__(self) -> None:
        if not 0 < self.sample <= min(self.max_wait, self.busy_wait, self.max_settle):
            raise ValueError(f"thresholds: sample {self.sample}s must fit in the maximum waits")
        if min(self.cpu_busy, self.io_some, self.write_mb_s) <= 0:
            raise ValueError("thresholds must be positive")


def parse_stat(text: str) -> CpuTimes | None:
    """The aggregate `cpu` line: user nice system idle iowait irq softirq steal guest guest_nice.

    iowait is idle time (the core could have run something); steal is busy (someone else had
    the core); guest is already counted in user, so it is left out of the total."""
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] != "cpu":
            continue
        try:
            values = [int(word) for word in words[1:9]]
        except ValueError:
            return None
        if len(values) < 4 or min(values) < 0:
            return None
        values += [0] * (8 - len(values))
        user, nice, system, idle, iowait, irq, softirq, steal = values
        busy = user + nice + system + irq + softirq + steal
        return CpuTimes(busy=busy, total=busy + idle + iowait)
    return None


def parse_pressure(text: str) -> tuple[float, int] | None:
    """(avg10, total µs) of the `some` line of a /proc/pressure file."""
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] != "some":
            continue
        fields = dict(word.partition("=")[::2] for word in words[1:])
        try:
            avg10, total = float(fields["avg10"]), int(fields["total"])
        except (KeyError, ValueError):
            return None
        return (avg10, total) if avg10 >= 0 and total >= 0 else None
    return None


def parse_diskstats(text: str) -> int | None:
    """Sectors written, summed over whole disks (not partitions, not virtual devices)."""
    rows: dict[str, int] = {}
    for line in text.splitlines():
        words = line.split()
        if len(words) < 10:
            continue
        name = words[2]
        try:
            rows[name] = int(words[9])  # field 7 after major, minor, name
        except ValueError:
            return None
    disks = [
        name
        for name in rows
        if not _VIRTUAL.match(name) and not any(_is_partition(name, other) for other in rows)
    ]
    return sum(rows[name] for name in disks) if disks else None


def _is_partition(name: str, disk: str) -> bool:
    # vda1 of vda, nvme0n1p2 of nvme0n1, mmcblk0p1 of mmcblk0
    return (
        name != disk
        and name.startswith(disk)
        and _PARTITION_TAIL.fullmatch(name[len(disk) :]) is not None
    )


def figures(before: Reading, after: Reading) -> Figures:
    """Figures between two readings; a counter that is missing or went backwards is None."""
    seconds = max(after.at - before.at, 0.0)
    cpu = None  # from jiffies alone: needs no clock
    if before.cpu and after.cpu:
        busy = after.cpu.busy - before.cpu.busy
        total = after.cpu.total - before.cpu.total
        if total > 0 and 0 <= busy <= total:
            cpu = busy / total
    io = _delta(before.io_stall_us, after.io_stall_us)
    written = _delta(before.sectors_written, after.sectors_written)
    if seconds == 0:
        io = written = None
    return Figures(
        seconds=seconds,
        cpu_busy=cpu,
        # stall time can exceed wall time by rounding; a share above 1 means nothing more
        io_some=None if io is None else min(io / (seconds * 1e6), 1.0),
        write_mb_s=None if written is None else written * SECTOR_BYTES / 1e6 / seconds,
    )


def _delta(before: int | None, after: int | None) -> int | None:
    if before is None or after is None or after < before:
        return None
    return after - before


def busy_reason(seen: Figures, limits: Thresholds) -> str | None:
    """Why the machine is not calm, or None when it is (or when nothing could be measured:
    the caller reports that separately)."""
    reasons = []
    if seen.cpu_busy is not None and seen.cpu_busy > limits.cpu_busy:
        reasons.append(f"{seen.cpu_busy:.0%} CPU busy")
    if seen.io_some is not None:
        if seen.io_some > limits.io_some:
            reasons.append(f"I/O pressure {seen.io_some:.0%}")
    elif seen.write_mb_s is not None and seen.write_mb_s > limits.write_mb_s:
        reasons.append(f"disk writes {seen.write_mb_s:.1f} MB/s")
    return ", ".join(reasons) or None


def measured(seen: Figures) -> bool:
    return seen.cpu_busy is not None or seen.io_some is not None or seen.write_mb_s is not None


def disk_busy_reason(seen: Figures, limits: Thresholds) -> str | None:
    """Why the disk is still flushing, or None when quiet."""
    reasons = []
    if seen.write_mb_s is not None and seen.write_mb_s > limits.write_mb_s:
        reasons.append(f"disk writes {seen.write_mb_s:.1f} MB/s")
    if seen.io_some is not None and seen.io_some > limits.io_some:
        reasons.append(f"I/O pressure {seen.io_some:.0%}")
    return ", ".join(reasons) or None
