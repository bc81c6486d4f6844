"""calm.py and calm_rules.py: parsers on literal and real /proc text, the decisions on scripted
readings, the bounded loops on a fake clock, and a loose check on this machine."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutbot.calm import Calm, MachineQuiet, NoQuiet, Quiet, Settled, read_proc
from mutbot.calm_rules import (
    CpuTimes,
    Figures,
    Reading,
    Thresholds,
    busy_reason,
    disk_busy_reason,
    figures,
    parse_diskstats,
    parse_pressure,
    parse_stat,
)

# from the 2-core machine these were written on
STAT = """\
cpu  1122464 0 368590 3059805 18630 0 27150 216 0 0
cpu0 465417 0 132505 1685226 3249 0 13316 91 0 0
cpu1 657047 0 236084 1374578 15380 0 13833 124 0 0
intr 123 0 0
ctxt 456
"""
PRESSURE = """\
some avg10=0.47 avg60=0.10 avg300=0.14 total=212369222
full avg10=0.47 avg60=0.10 avg300=0.08 total=142736840
"""
DISKSTATS = """\
   7       0 loop0 10 0 80 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 2174415 114207 41841274 1355773 4713553 2497160 119982272 864807 0 417704 2419339
 254       1 vda1 2174000 114207 41841000 1355773 4713000 2497160 119980000 864807 0 417704 2419339
 259       0 nvme0n1 5 0 40 1 6 0 1000 2 0 3 3
 259       1 nvme0n1p1 5 0 40 1 6 0 999 2 0 3 3
 253       0 zram0 0 0 0 0 7 0 56 0 0 0 0 0 0 0 0 0 0
 252       0 dm-0 0 0 0 0 9 0 5000 0 0 0 0
"""


def test_parse_stat_literal() -> None:
    busy = 1122464 + 0 + 368590 + 0 + 27150 + 216
    assert parse_stat(STAT) == CpuTimes(busy=busy, total=busy + 3059805 + 18630)


def test_parse_stat_old_kernel_and_garbage() -> None:
    assert parse_stat("cpu 10 0 5 85\n") == CpuTimes(busy=15, total=100)
    assert parse_stat("cpu0 1 2 3 4\n") is None  # no aggregate line
    assert parse_stat("cpu 1 two 3 4\n") is None
    assert parse_stat("cpu 1 2\n") is None
    assert parse_stat("") is None


def test_parse_pressure_literal_and_odd() -> None:
    assert parse_pressure(PRESSURE) == (0.47, 212369222)
    assert parse_pressure("full avg10=1.00 total=5\nsome avg10=0.00 total=7\n") == (0.0, 7)
    assert parse_pressure("some avg10=0.47 avg60=0.10\n") is None
    assert parse_pressure("some avg10=x total=1\n") is None
    assert parse_pressure("") is None


def test_parse_diskstats_counts_whole_disks_only() -> None:
    # vda and nvme0n1; not their partitions, loop, zram or device mapper
    assert parse_diskstats(DISKSTATS) == 119982272 + 1000
    assert parse_diskstats("   7 0 loop0 1 0 8 0 2 0 16 0 0 0 0\n") is None
    assert parse_diskstats(" 8 0 sda 1 0 8 0 2 0 sixteen 0 0 0 0\n") is None
    # 2.6-era partition rows have only 7 fields: skipped, not an error
    assert parse_diskstats(" 8 0 sda 1 0 8 0 2 0 16 0 0 0 0\n 8 1 sda1 1 8 2 16\n") == 16


def test_real_proc_files_parse() -> None:
    proc = Path("/proc")
    assert parse_stat((proc / "stat").read_text()) is not None
    assert parse_diskstats((proc / "diskstats").read_text()) is not None
    reading = read_proc()
    assert reading.cpu is not None and reading.sectors_written is not None
    try:
        pressure = (proc / "pressure" / "io").read_text()
    except OSError:
        assert reading.io_stall_us is None  # no PSI here: "not measured", not an error
    else:
        assert parse_pressure(pressure) is not None
        assert reading.io_stall_us is not None


def test_read_proc_degrades_on_missing_or_odd_files(tmp_path: Path) -> None:
    assert read_proc(tmp_path, clock=lambda: 1.0) == Reading(1.0, None, None, None, None)
    (tmp_path / "pressure").mkdir()
    (tmp_path / "pressure" / "io").write_text("nonsense\n")
    (tmp_path / "stat").write_bytes(b"\xff\xfe cpu x\n")
    (tmp_path / "diskstats").write_text("")
    assert read_proc(tmp_path, clock=lambda: 1.0) == Reading(1.0, None, None, None, None)


def test_figures_from_two_readings() -> None:
    before = Reading(10.0, CpuTimes(100, 1000), 0, 0.0, 0)
    after = Reading(10.5, CpuTimes(160, 1100), 50_000, 0.1, 2_000_000)
    seen = figures(before, after)
    assert seen.cpu_busy == pytest.approx(0.6)
    assert seen.io_some == pytest.approx(0.1)
    assert seen.write_mb_s == pytest.approx(2_000_000 * 512 / 1e6 / 0.5)
    # a counter that went backwards (a reset) or a missing file: not measured
    assert figures(after, before).cpu_busy is None
    assert figures(before, Reading(11.0, None, None, None, None)) == Figures(1.0, None, None, None)


counters = st.one_of(st.none(), st.integers(min_value=0, max_value=2**62))
cpu_times = st.one_of(
    st.none(),
    st.builds(
        lambda busy, idle: CpuTimes(busy, busy + idle),
        st.integers(0, 2**40),
        st.integers(0, 2**40),
    ),
)
readings = st.builds(
    Reading,
    at=st.floats(0, 1e6, allow_nan=False),
    cpu=cpu_times,
    io_stall_us=counters,
    io_avg10=st.none(),
    sectors_written=counters,
)


@given(readings, readings)
def test_figures_never_raise_and_stay_in_range(before: Reading, after: Reading) -> None:
    seen = figures(before, after)
    assert seen.cpu_busy is None or 0 <= seen.cpu_busy <= 1
    assert seen.io_some is None or 0 <= seen.io_some <= 1
    assert seen.write_mb_s is None or seen.write_mb_s >= 0
    seen.describe()


shares = st.one_of(st.none(), st.floats(0, 1))


@given(shares, shares, st.one_of(st.none(), st.floats(0, 1e4)))
def test_busy_reason_is_exactly_the_thresholds(
    cpu: float | None, io: float | None, writes: float | None
) -> None:
    limits = Thresholds()
    reason = busy_reason(Figures(0.5, cpu, io, writes), limits)
    cpu_busy = cpu is not None and cpu > limits.cpu_busy
    io_busy = io > limits.io_some if io is not None else (writes or 0) > limits.write_mb_s
    assert (reason is None) == (not cpu_busy and not io_busy)
    # a looser limit never turns calm into busy
    looser = Thresholds(cpu_busy=0.9, io_some=0.9, write_mb_s=1e5)
    if reason is None:
        assert busy_reason(Figures(0.5, cpu, io, writes), looser) is None


def test_disk_busy_reason() -> None:
    limits = Thresholds()
    assert disk_busy_reason(Figures(0.5, 0.9, 0.0, 600.0), limits) == "disk writes 600.0 MB/s"
    assert disk_busy_reason(Figures(0.5, 0.9, 0.0, 0.1), limits) is None  # CPU does not count


def test_thresholds_reject_nonsense() -> None:
    with pytest.raises(ValueError):
        Thresholds(sample=0)
    with pytest.raises(ValueError):
        Thresholds(sample=20, max_wait=15)
    with pytest.raises(ValueError):
        Thresholds(cpu_busy=0)


class Machine:
    """A fake clock (moved only by sleep) and a reader that replays scripted windows: each
    window is (CPU busy share, I/O stall share, MB/s written)."""

    def __init__(self, windows: list[tuple[float, float, float]], frozen: bool = False) -> None:
        self.now = 0.0
        self.frozen = frozen
        self.windows = list(windows)
        self.cpu = CpuTimes(0, 0)
        self.stall = 0
        self.sectors = 0
        self.syncs = 0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        step = 0.0 if self.frozen else seconds
        self.now += step
        busy, stall, writes = self.windows.pop(0) if self.windows else (0.0, 0.0, 0.0)
        jiffies = round(200 * max(step, 0.5))  # 2 cores at 100 Hz
        self.cpu = CpuTimes(self.cpu.busy + round(busy * jiffies), self.cpu.total + jiffies)
        self.stall += round(stall * step * 1e6)
        self.sectors += round(writes * 1e6 * step / 512)

    def read(self) -> Reading:
        return Reading(self.now, self.cpu, self.stall, None, self.sectors)

    def sync(self) -> None:
        self.syncs += 1

    def quiet(self, limits: Thresholds | None = None) -> MachineQuiet:
        return MachineQuiet(
            limits, reader=self.read, sleep=self.sleep, clock=self.clock, sync=self.sync
        )


def test_quiet_machine_passes_at_the_first_look() -> None:
    calm = Machine([(0.02, 0.0, 0.0)]).quiet().wait()
    assert (calm.calm, calm.looks, calm.waited, calm.note) == (True, 1, 0.5, "calm")
    assert calm.figures is not None and calm.figures.cpu_busy == pytest.approx(0.02)


def test_waits_out_a_teardown() -> None:
    calm = Machine([(0.9, 0.0, 0.0), (0.6, 0.3, 0.0), (0.05, 0.0, 0.0)]).quiet().wait()
    assert calm.calm and calm.looks == 3
    assert calm.note == "calm after 1.5 s (was: 90% CPU busy)"


def test_starts_anyway_when_busy_throughout() -> None:
    limits = Thresholds(max_wait=3.0)
    calm = Machine([(0.63, 0.0, 0.0)] * 100).quiet(limits).wait()
    assert not calm.calm
    assert calm.note == "started anyway: 63% CPU busy after 3 s"
    assert calm.waited <= limits.max_wait + limits.sample


def test_a_machine_busy_for_good_costs_little() -> None:
    limits = Thresholds(max_wait=5.0, busy_wait=1.0, patience=2)
    machine = Machine([(0.9, 0.0, 0.0)] * 40 + [(0.0, 0.0, 0.0)] + [(0.9, 0.0, 0.0)] * 40)
    quiet = machine.quiet(limits)
    waits = [quiet.wait() for _ in range(4)]
    assert [round(calm.waited) for calm in waits] == [5, 5, 1, 1]
    assert waits[2].note == (
        "started anyway: 90% CPU busy after 1 s (busy through 2 waits in a row: waiting less)"
    )
    while machine.windows[0][0] > 0:  # skip to the calm window: patience comes back
        machine.windows.pop(0)
    assert quiet.wait().calm
    assert round(quiet.wait().waited) == 5


def test_io_pressure_alone_is_not_calm() -> None:
    calm = Machine([(0.0, 0.4, 0.0)] * 10).quiet(Thresholds(max_wait=1.0)).wait()
    assert not calm.calm and "I/O pressure 40%" in calm.note


def test_a_frozen_clock_still_ends() -> None:
    limits = Thresholds(max_wait=2.0)
    calm = Machine([(1.0, 0.0, 0.0)] * 100, frozen=True).quiet(limits).wait()
    assert not calm.calm and calm.looks == math.ceil(2.0 / 0.5) + 1


def test_nothing_measurable_is_said() -> None:
    empty = Reading(0.0, None, None, None, None)
    quiet = MachineQuiet(reader=lambda: empty, sleep=lambda _: None, clock=lambda: 0.0)
    calm = quiet.wait()
    assert (calm.calm, calm.looks) == (False, 1)
    assert calm.note.startswith("not measured")
    settled = quiet.settle()
    assert not settled.quiet and settled.note.startswith("not measured")


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 50)), max_size=60))
def test_wait_is_bounded_and_honest(windows: list[tuple[float, float, float]]) -> None:
    limits = Thresholds(max_wait=5.0)
    machine = Machine(windows)
    calm = machine.quiet(limits).wait()
    bound = math.ceil(limits.max_wait / limits.sample) + 1
    assert 1 <= calm.looks <= bound
    assert calm.waited <= limits.max_wait + limits.sample
    assert calm.figures is not None
    assert calm.calm == (busy_reason(calm.figures, limits) is None)
    if not calm.calm:
        assert calm.note.startswith("started anyway")


def test_settle_syncs_and_waits_for_the_flush() -> None:
    machine = Machine([(0.5, 0.2, 600.0), (0.3, 0.1, 400.0), (0.1, 0.0, 0.2)])
    settled = machine.quiet().settle()
    assert machine.syncs == 1
    assert (settled.quiet, settled.synced, settled.looks, settled.note) == (
        True,
        True,
        3,
        "quiet",
    )
    assert settled.written_mb == pytest.approx(0.5 * (600 + 400 + 0.2), rel=0.01)


def test_settle_gives_up_and_says_so() -> None:
    def failing_sync() -> None:
        raise OSError("EIO")

    machine = Machine([(0.0, 0.0, 50.0)] * 100)
    limits = Thresholds(max_settle=2.0)
    quiet = MachineQuiet(
        limits, reader=machine.read, sleep=machine.sleep, clock=machine.clock, sync=failing_sync
    )
    settled = quiet.settle()
    assert not settled.quiet and not settled.synced
    assert settled.note == "still busy after 2 s: disk writes 50.0 MB/s"


def test_settle_does_not_wait_for_a_stuck_sync() -> None:
    release = threading.Event()
    machine = Machine([])
    limits = Thresholds(sample=0.05, max_wait=0.1, busy_wait=0.1, max_settle=0.2)
    quiet = MachineQuiet(
        limits, reader=machine.read, sleep=machine.sleep, clock=time.monotonic, sync=release.wait
    )
    try:
        settled = quiet.settle()
    finally:
        release.set()
    assert not settled.synced and settled.note == "sync not finished after 0.2 s"
    assert settled.waited < 1.0


def test_no_quiet_never_waits() -> None:
    quiet: Quiet = NoQuiet()
    assert isinstance(quiet.wait(), Calm) and quiet.wait().waited == 0
    assert isinstance(quiet.settle(), Settled) and quiet.settle().waited == 0
    real: Quiet = MachineQuiet()  # the real one satisfies the Protocol too (checked by mypy)
    assert real.wait is not None


def test_this_machine_is_measured_within_bounds() -> None:
    # loose on purpose: other tests may keep this machine busy, so calm is not asserted
    limits = Thresholds(sample=0.2, max_wait=1.0, max_settle=1.0)
    started = time.monotonic()
    calm = MachineQuiet(limits).wait()
    assert time.monotonic() - started < 3.0
    assert calm.figures is not None and calm.figures.cpu_busy is not None
    settled = MachineQuiet(limits).settle()
    assert settled.synced and settled.waited < 3.0


def test_a_real_cpu_hog_is_seen() -> None:
    # one busy loop per core: the share can only be higher if something else runs as well
    loop = "import time\nend = time.monotonic() + 8\nwhile time.monotonic() < end: pass\n"
    hogs = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(os.cpu_count() or 1)]
    try:
        time.sleep(0.3)
        calm = MachineQuiet(Thresholds(cpu_busy=0.3, sample=0.3, max_wait=0.6)).wait()
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert not calm.calm
    assert calm.note.startswith("started anyway") and "CPU busy" in calm.note
