"""Reading a container's usage from its cgroup (backends/cgroups.py), on fake /proc and /sys."""

from __future__ import annotations

from pathlib import Path

from mutbot.backends import cgroups

ID = "c9abbd6a14130aa9163a740348ca3f92167afa8e5cf23ce9471f9c5cf72289a7"
MEMORY_STAT = "cache 9000\nrss 30000\ntotal_cache 9000\ntotal_inactive_file 4096\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def fake_v1(tmp_path: Path, cpuacct_dir: str, group: str) -> tuple[Path, Path]:
    proc, root = tmp_path / "proc", tmp_path / "sys"
    controllers = "cpu,cpuacct" if "," in cpuacct_dir else "cpuacct"
    write(
        proc / "42" / "cgroup",
        f"12:pids:{group}\n5:{controllers}:{group}\n4:memory:{group}\n0::/\n",
    )
    write(root / cpuacct_dir / group.lstrip("/") / "cpuacct.usage", "2500000000\n")
    write(root / "memory" / group.lstrip("/") / "memory.usage_in_bytes", "40960\n")
    write(root / "memory" / group.lstrip("/") / "memory.stat", MEMORY_STAT)
    return proc, root


def test_cgroup_v1_as_docker_lays_it_out_reads_what_docker_stats_report(tmp_path: Path) -> None:
    for layout, group in (
        ("cpuacct", f"/docker/{ID}"),  # cgroupfs driver
        ("cpu,cpuacct", f"/system.slice/docker-{ID}.scope"),  # systemd driver
    ):
        proc, root = fake_v1(tmp_path / layout, layout, group)
        files = cgroups.find(42, ID, proc, root)
        assert files is not None and not files.v2, layout
        sample = cgroups.read(files, clock=lambda: 123.0)
        # total_inactive_file is taken off, as docker_backend._to_sample does with the stats
        assert sample == cgroups.Sample(at=123.0, cpu_seconds=2.5, memory_bytes=40960 - 4096)


def test_cgroup_v2_reads_usage_usec_and_memory_current(tmp_path: Path) -> None:
    proc, root = tmp_path / "proc", tmp_path / "sys"
    group = f"system.slice/docker-{ID}.scope"
    write(proc / "42" / "cgroup", f"0::/{group}\n")
    write(root / group / "cpu.stat", "usage_usec 1500000\nuser_usec 1000000\n")
    write(root / group / "memory.current", "81920\n")
    write(root / group / "memory.stat", "anon 60000\ninactive_file 8192\n")
    files = cgroups.find(42, ID, proc, root)
    assert files is not None and files.v2
    assert cgroups.read(files, clock=lambda: 1.0) == cgroups.Sample(1.0, 1.5, 81920 - 8192)


def test_a_process_not_in_the_containers_cgroup_is_not_trusted(tmp_path: Path) -> None:
    """Another pid namespace (mutbot in a container, the engine's pid of another process) or an
    engine elsewhere: the path does not name the container, so the stats stream is used."""
    proc, root = fake_v1(tmp_path, "cpuacct", "/user.slice/session-3.scope")
    assert cgroups.find(42, ID, proc, root) is None
    assert cgroups.find(43, ID, proc, root) is None  # no such process here


def test_a_cgroup_that_went_away_reads_as_no_sample(tmp_path: Path) -> None:
    proc, root = fake_v1(tmp_path, "cpuacct", f"/docker/{ID}")
    files = cgroups.find(42, ID, proc, root)
    assert files is not None
    files.memory.unlink()  # the container exited: the engine removed its cgroup
    assert cgroups.read(files) is None
