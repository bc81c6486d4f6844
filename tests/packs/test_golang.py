from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.golang import PACK, mib
from mutbot.packs.model import Finding, Seen
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
SANDBOX = Sandbox(cpus=2.0, memory=512 * MIB)
MAIN = 'package main\n\nimport "net/http"\n\nfunc main() { http.ListenAndServe(":8080", nil) }\n'


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def service(
    go: str = "1.22", env: str = "", builder: str = "1.22", requires: str = ""
) -> dict[str, str]:
    dockerfile = (
        f"FROM golang:{builder} AS build\nWORKDIR /src\nCOPY . .\n"
        "RUN CGO_ENABLED=0 go build -o /server .\n\n"
        f"FROM gcr.io/distroless/static\nCOPY --from=build /server /server\n{env}"
        'ENTRYPOINT ["/server"]\n'
    )
    mod = f"module example.com/svc\n\ngo {go}\n" + (
        f"\nrequire {requires} v1.6.0\n" if requires else ""
    )
    return {"Dockerfile": dockerfile, "go.mod": mod, "main.go": MAIN}


def state(seen: list[Seen]) -> dict[str, tuple[object, bool]]:
    return {s.setting.name: (s.value, s.written) for s in seen}


def findings(files: dict[str, str], sandbox: Sandbox = SANDBOX) -> dict[str, Finding]:
    view = view_of(files, sandbox)
    return {f.title: f for f in PACK.detect(view, PACK.scan(view))}


def everything_proves(files: dict[str, str], sandbox: Sandbox = SANDBOX) -> int:
    view = view_of(files, sandbox)
    seen = PACK.scan(view)
    moves = [m for f in PACK.detect(view, seen) for m in f.fix] + PACK.explore(view, seen)
    for move in moves:
        assert move.seen.setting.safety == "tune"
        proves(PACK, files, move, sandbox)
    return len(moves)


def test_the_go_sample_runs_on_the_runtimes_defaults() -> None:
    files = load("go-service")
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen) == {
        "GOMAXPROCS": (None, False),
        "GOGC": (100, False),
        "GOMEMLIMIT": (None, False),
        "address": (":8080", True),
    }
    found = by_key(seen)
    assert str(found["go.GOMAXPROCS"].site) == "Dockerfile:11"  # an ENV before the ENTRYPOINT
    assert found["go.address"].setting.safety == "never" and found["go.address"].setter is None


def test_before_go_1_25_the_runtime_counts_the_hosts_cpus() -> None:
    files = load("go-service")
    found = findings(files)
    assert set(found) == {
        "Go schedules on every CPU of the host",
        "Go's collector does not know the memory limit",
    }
    procs = found["Go schedules on every CPU of the host"]
    assert procs.category == "limits-unseen" and "go 1.22" in procs.why
    assert [m.value for m in procs.fix] == [2]
    assert "EXPOSE 8080\nENV GOMAXPROCS=2\nENTRYPOINT" in applied(files, procs.fix[0])["Dockerfile"]
    memory = found["Go's collector does not know the memory limit"]
    assert [m.value for m in memory.fix] == [460]  # 90% of 512 MiB
    assert "ENV GOMEMLIMIT=460MiB\n" in applied(files, memory.fix[0])["Dockerfile"]


def test_every_move_on_the_sample_proves_itself() -> None:
    assert everything_proves(load("go-service")) >= 4


@pytest.mark.parametrize(
    ("go", "builder", "env", "counts_host"),
    [
        ("1.22", "1.22", "", True),
        ("1.25", "1.25", "", False),
        ("1.25.1", "1.25-alpine", "", False),
        ("1.22", "1.25", "", True),  # go.mod's go line sets the GODEBUG defaults
        ("1.25", "1.25", "ENV GODEBUG=containermaxprocs=0\n", True),
    ],
)
def test_go_1_25_follows_the_cpu_limit(go: str, builder: str, env: str, counts_host: bool) -> None:
    found = findings(service(go=go, builder=builder, env=env))
    assert ("Go schedules on every CPU of the host" in found) is counts_host


def test_automaxprocs_and_automemlimit_set_them_at_start() -> None:
    assert "Go schedules on every CPU of the host" not in findings(
        service(requires="go.uber.org/automaxprocs")
    )
    assert "Go's collector does not know the memory limit" not in findings(
        service(requires="github.com/KimMachineGun/automemlimit")
    )


def test_written_values_are_read_and_changed_where_written() -> None:
    files = service(env="ENV GOMAXPROCS=8 GOGC=off \\\n    GOMEMLIMIT=1GiB\n")
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen) == {"GOMAXPROCS": (8, True), "GOGC": (-1, True), "GOMEMLIMIT": (1024, True)}
    found = findings(files)
    assert set(found) == {"GOMAXPROCS above the CPU limit"}
    (move,) = found["GOMAXPROCS above the CPU limit"].fix
    assert (
        "ENV GOMAXPROCS=2 GOGC=off \\\n    GOMEMLIMIT=1GiB\n" in applied(files, move)["Dockerfile"]
    )
    assert everything_proves(files) >= 3


def test_the_sandbox_configs_environment_is_read_but_not_edited() -> None:
    sandbox = Sandbox(cpus=2.0, memory=512 * MIB, env={"GOGC": "400"})
    seen = by_key(PACK.scan(view_of(service(), sandbox)))
    gogc = seen["go.GOGC"]
    assert (gogc.value, gogc.written, gogc.reaches, gogc.setter) == (400, True, "environment", None)


def test_a_dockerfile_outside_the_targets_gives_opportunities_only() -> None:
    files = service()
    view = view_of(files, SANDBOX, targets={"main.go"})
    found = {f.title: f for f in PACK.detect(view, PACK.scan(view))}
    assert found and all(f.fix == () for f in found.values())


def test_other_technologies_are_not_go() -> None:
    files = {"Dockerfile": "FROM python:3.12\nCOPY . .\nCMD python app.py\n", "app.py": "x = 1\n"}
    assert PACK.scan(view_of(files, SANDBOX)) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("512MiB", 512),
        ("1GiB", 1024),
        ("1048576", 1),
        ("1536KiB", 1.5),
        ("2GiB", 2048),
        ("x", None),
    ],
)
def test_gomemlimit_sizes(text: str, value: float | None) -> None:
    assert mib(text) == value
