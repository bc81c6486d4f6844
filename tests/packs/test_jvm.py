from __future__ import annotations

from pathlib import Path

import pytest

from mutbot.packs.jvm import PACK, parse
from mutbot.packs.model import Finding, Seen
from mutbot.packs.view import Sandbox
from testing.packs import applied, by_key, proves, sample_files, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
SANDBOX = Sandbox(cpus=2.0, memory=512 * MIB)
DEFAULTS: dict[str, tuple[object, bool]] = {
    "Xmx": (None, False),
    "Xms": (None, False),
    "MaxRAMPercentage": (25.0, False),
    "InitialRAMPercentage": (1.5625, False),
    "UseContainerSupport": (True, False),
    "GC": (None, False),
}


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def service(start: str, env: str = "", **more: str) -> dict[str, str]:
    dockerfile = f"FROM eclipse-temurin:21-jre\nWORKDIR /app\nCOPY . /app/\n{env}{start}\n"
    return {"Dockerfile": dockerfile, "app.jar": "PK\n", **more}


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


def test_the_java_sample_reads_java_opts_where_the_command_expands_it() -> None:
    files = load("java-service")
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen) == {**DEFAULTS, "GC": ("Parallel", True)}
    found = by_key(seen)
    assert str(found["jvm.GC"].site) == "Dockerfile:11"  # ENV JAVA_OPTS
    assert str(found["jvm.MaxRAMPercentage"].site) == "Dockerfile:13"  # the java command


def test_no_heap_setting_leaves_a_quarter_of_the_limit_to_the_heap() -> None:
    files = load("java-service")
    (finding,) = findings(files).values()
    assert (finding.category, finding.title) == (
        "limits-unseen",
        "JVM heap is a quarter of the memory limit",
    )
    assert "512 MiB" in finding.why
    (move,) = finding.fix
    assert move.value == 75.0
    started = '"exec java -XX:MaxRAMPercentage=75.0 $JAVA_OPTS -jar /app/app.jar"]\n'
    assert applied(files, move)["Dockerfile"].endswith(started)
    assert findings(applied(files, move)) == {}


def test_every_move_on_the_sample_proves_itself() -> None:
    assert everything_proves(load("java-service")) >= 3


def test_a_heap_over_the_limit_is_lowered_in_place() -> None:
    files = service('ENTRYPOINT ["java", "-Xmx1g", "-XX:+UseG1GC", "-jar", "app.jar"]')
    assert state(PACK.scan(view_of(files, SANDBOX))) == {
        **DEFAULTS,
        "Xmx": (1024, True),
        "GC": ("G1", True),
    }
    (finding,) = findings(files).values()
    assert (finding.category, finding.title) == (
        "no-resource-limits",
        "JVM heap larger than the memory limit",
    )
    assert '["java", "-Xmx384m", "-XX:+UseG1GC"' in applied(files, finding.fix[0])["Dockerfile"]
    view = view_of(files, SANDBOX)
    explored = [(m.seen.setting.name, m.value) for m in PACK.explore(view, PACK.scan(view))]
    assert explored == [("GC", "Parallel")]  # no percentage under a written -Xmx
    everything_proves(files)


def test_container_support_switched_off_in_java_tool_options() -> None:
    files = service(
        'CMD ["java", "-jar", "app.jar"]',
        env='ENV JAVA_TOOL_OPTIONS="-XX:-UseContainerSupport -Xss512k"\n',
    )
    assert state(PACK.scan(view_of(files, SANDBOX)))["UseContainerSupport"] == (False, True)
    assert set(findings(files)) == {"the JVM ignores the container's limits"}
    (move,) = findings(files)["the JVM ignores the container's limits"].fix
    assert (
        'ENV JAVA_TOOL_OPTIONS="-XX:+UseContainerSupport -Xss512k"\n'
        in applied(files, move)["Dockerfile"]
    )
    everything_proves(files)


def test_the_command_line_wins_over_java_tool_options() -> None:
    files = service(
        'CMD ["java", "-Xmx384m", "-jar", "app.jar"]', env="ENV JAVA_TOOL_OPTIONS=-Xmx256m\n"
    )
    xmx = by_key(PACK.scan(view_of(files, SANDBOX)))["jvm.Xmx"]
    assert (xmx.value, str(xmx.site)) == (384, "Dockerfile:5")
    everything_proves(files)


def test_an_entrypoint_script_that_execs_java() -> None:
    script = '#!/bin/sh\nset -e\necho "starting"\nexec java $JAVA_OPTS -jar /app/app.jar "$@"\n'
    files = service('ENTRYPOINT ["/app/run.sh"]', **{"run.sh": script})
    seen = by_key(PACK.scan(view_of(files, SANDBOX)))
    assert str(seen["jvm.MaxRAMPercentage"].site) == "run.sh:4"
    (move,) = findings(files)["JVM heap is a quarter of the memory limit"].fix
    assert "exec java -XX:MaxRAMPercentage=75.0 $JAVA_OPTS -jar" in applied(files, move)["run.sh"]
    everything_proves(files)


def test_the_port_is_seen_and_never_moved() -> None:
    files = service("CMD java -Dserver.port=8080 -XX:+UseSerialGC -jar app.jar")
    seen = PACK.scan(view_of(files, SANDBOX))
    (port,) = [s for s in seen if s.setting.name == "port"]
    assert (port.value, port.setting.safety, port.setter) == ("8080", "never", None)
    for move in PACK.explore(view_of(files, SANDBOX), seen):
        assert "-Dserver.port=8080" in applied(files, move)["Dockerfile"]
    everything_proves(files)


def test_a_dockerfile_the_sandbox_does_not_measure_gives_an_opportunity() -> None:
    files = service('CMD ["java", "-jar", "app.jar"]')
    view = view_of(files, SANDBOX, targets={"app.jar"})
    (finding,) = PACK.detect(view, PACK.scan(view))
    assert finding.fix == () and str(finding.site) == "Dockerfile:4"


def test_other_technologies_are_not_the_jvm() -> None:
    files = {"Dockerfile": "FROM python:3.12\nCOPY . .\nCMD python app.py\n", "app.py": "x = 1\n"}
    assert PACK.scan(view_of(files, SANDBOX)) == []


@pytest.mark.parametrize(
    ("option", "read"),
    [
        ("-Xmx2g", ("Xmx", 2048)),
        ("-Xms512M", ("Xms", 512)),
        ("-Xmx1073741824", ("Xmx", 1024)),
        ("-Xmx1536k", ("Xmx", 1.5)),
        ("-XX:MaxRAMPercentage=80", ("MaxRAMPercentage", 80.0)),
        ("-XX:+UseParallelOldGC", ("GC", "Parallel")),
        ("-XX:+UseZGC", ("GC", "Z")),
        ("-XX:+UseStringDeduplication", None),
        ("-Dserver.port=9000", ("port", "9000")),
    ],
)
def test_jvm_options(option: str, read: tuple[str, object] | None) -> None:
    assert parse(option) == read
