from __future__ import annotations

from pathlib import Path

from mutbot.packs.model import Finding, Seen, apply_edits
from mutbot.packs.node import PACK
from mutbot.packs.view import Sandbox
from testing.packs import by_key, proves, sample_files, view_of

MIB = 1024 * 1024
SAMPLES = Path(__file__).resolve().parents[2] / "testing" / "packs"
SANDBOX = Sandbox(cpus=2.0, memory=512 * MIB)
PM2 = (
    "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev && npm i -g pm2\n"
    'CMD ["pm2-runtime", "{file}"{more}]\n'
)
SERVER = "require('http').createServer((q, s) => s.end('ok')).listen(3000);\n"


def load(name: str) -> dict[str, str]:
    return sample_files(SAMPLES / name, config=False)


def pm2(ecosystem: str, file: str = "ecosystem.config.js", more: str = "") -> dict[str, str]:
    dockerfile = PM2.replace("{file}", file).replace("{more}", more)
    return {"Dockerfile": dockerfile, file: ecosystem, "server.js": SERVER}


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


def fixed(files: dict[str, str], finding: Finding) -> dict[str, str]:
    """Every move of one finding applied together, as its candidate is."""
    return {**files, **apply_edits(files, tuple(e for m in finding.fix for e in m.edits))}


def test_the_express_sample_reads_its_ecosystem_file() -> None:
    files = load("express-pm2")
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen) == {
        "instances": ("1", True),
        "exec_mode": ("fork", False),
        "NODE_ENV": (None, False),
        "UV_THREADPOOL_SIZE": (4, False),
        "max_old_space_size": (None, False),
        "script": ("./src/server.js", True),
        "autorestart": ("true", True),
        "watch": ("false", True),
        "PORT": ("3000", True),
    }
    found = by_key(seen)
    assert str(found["node.instances"].site) == "ecosystem.config.js:7"
    assert str(found["node.NODE_ENV"].site) == "Dockerfile:12"  # a new ENV goes before CMD
    for name in ("script", "autorestart", "watch", "PORT"):
        assert found[f"node.{name}"].setting.safety == "never"
        assert found[f"node.{name}"].setter is None


def test_the_single_instance_is_found_and_clustered_over_the_cpus() -> None:
    files = load("express-pm2")
    found = findings(files)
    assert set(found) == {
        "pm2 runs a single instance",
        "NODE_ENV is not production",
        "Node heap not sized to the memory limit",
    }
    single = found["pm2 runs a single instance"]
    assert (single.category, str(single.site)) == ("single-worker", "ecosystem.config.js:7")
    assert [(m.seen.setting.name, m.value) for m in single.fix] == [
        ("instances", "2"),
        ("exec_mode", "cluster"),
    ]
    after = fixed(files, single)
    assert (
        "      instances: 2,\n      exec_mode: 'cluster',\n      autorestart: true,"
        in after["ecosystem.config.js"]
    )
    assert state(PACK.scan(view_of(after, SANDBOX)))["exec_mode"] == ("cluster", True)
    assert "pm2 runs a single instance" not in findings(after)


def test_node_env_and_the_heap_are_set_in_the_dockerfile() -> None:
    files = load("express-pm2")
    found = findings(files)
    env = found["NODE_ENV is not production"]
    assert env.category == "cache-disabled"
    assert "ENV NODE_ENV=production\nCMD" in fixed(files, env)["Dockerfile"]
    heap = found["Node heap not sized to the memory limit"]
    assert heap.category == "limits-unseen"
    assert [m.value for m in heap.fix] == [384]
    assert "ENV NODE_OPTIONS=--max-old-space-size=384\n" in fixed(files, heap)["Dockerfile"]


def test_every_move_on_the_sample_proves_itself() -> None:
    assert everything_proves(load("express-pm2")) >= 7


def test_max_counts_the_hosts_cpus() -> None:
    files = pm2("module.exports = {\n  apps: [{ script: 'server.js', instances: 'max' }],\n};\n")
    finding = findings(files)["pm2 instances count the host's CPUs"]
    assert finding.category == "limits-unseen" and "host" in finding.fix[0].rule
    assert [(m.seen.setting.name, m.value) for m in finding.fix] == [
        ("instances", "2"),
        ("exec_mode", "cluster"),
    ]
    assert "instances: 2, exec_mode: 'cluster' }" in fixed(files, finding)["ecosystem.config.js"]
    assert everything_proves(files) >= 3


def test_a_cpu_count_expression_is_replaced_whole() -> None:
    ecosystem = (
        "const os = require('os');\n\nmodule.exports = {\n  apps: [\n    {\n"
        "      script: 'server.js',\n      exec_mode: 'cluster',\n"
        "      instances: os.cpus().length,\n    },\n  ],\n};\n"
    )
    files = pm2(ecosystem)
    finding = findings(files)["pm2 instances count the host's CPUs"]
    assert [m.value for m in finding.fix] == ["2"]  # already cluster
    assert "      instances: 2,\n" in fixed(files, finding)["ecosystem.config.js"]
    everything_proves(files)


def test_a_json_process_file_is_written_as_json() -> None:
    ecosystem = (
        '{\n  "apps": [{\n    "name": "api",\n    "script": "server.js",\n'
        '    "instances": "1"\n  }]\n}\n'
    )
    files = pm2(ecosystem, "process.json")
    finding = findings(files)["pm2 runs a single instance"]
    assert fixed(files, finding)["process.json"] == (
        '{\n  "apps": [{\n    "name": "api",\n    "script": "server.js",\n    "instances": "2",\n'
        '    "exec_mode": "cluster"\n  }]\n}\n'
    )
    everything_proves(files)


def test_missing_instances_and_mode_are_both_added_in_one_candidate() -> None:
    ecosystem = (
        "module.exports = {\n  apps: [\n    {\n      name: 'api',\n      script: 'server.js',\n"
        "      env: { NODE_ENV: 'production' },\n    },\n  ],\n};\n"
    )
    files = pm2(ecosystem)
    seen = PACK.scan(view_of(files, SANDBOX))
    assert state(seen)["instances"] == ("1", False)
    assert state(seen)["NODE_ENV"] == ("production", True)
    finding = findings(files)["pm2 runs a single instance"]
    assert "no instances" in finding.why
    after = fixed(files, finding)
    assert after["ecosystem.config.js"] == (
        "module.exports = {\n  apps: [\n    {\n      name: 'api',\n      script: 'server.js',\n"
        "      exec_mode: 'cluster',\n      env: { NODE_ENV: 'production' },\n"
        "      instances: 2,\n    },\n  ],\n};\n"
    )
    assert "NODE_ENV is not production" not in findings(files)
    everything_proves(files)


def test_the_env_block_named_by_dash_dash_env_wins() -> None:
    ecosystem = (
        "module.exports = {\n  apps: [{\n    script: 'server.js',\n    instances: 2,\n"
        "    env: { NODE_ENV: 'development', UV_THREADPOOL_SIZE: 4 },\n"
        "    env_production: { NODE_ENV: 'production' },\n  }],\n};\n"
    )
    files = pm2(ecosystem, more=', "--env", "production"')
    seen = state(PACK.scan(view_of(files, SANDBOX)))
    assert seen["NODE_ENV"] == ("production", True)
    assert seen["UV_THREADPOOL_SIZE"] == (4, True)
    assert findings(files).keys() == {"Node heap not sized to the memory limit"}
    without = pm2(ecosystem)
    assert state(PACK.scan(view_of(without, SANDBOX)))["NODE_ENV"] == ("development", True)
    env = findings(without)["NODE_ENV is not production"]
    assert (
        "NODE_ENV: 'production', UV_THREADPOOL_SIZE" in fixed(without, env)["ecosystem.config.js"]
    )
    everything_proves(files)
    everything_proves(without)


def test_a_heap_over_the_limit_across_instances() -> None:
    ecosystem = (
        "module.exports = {\n  apps: [{\n    script: 'server.js',\n    instances: 4,\n"
        "    exec_mode: 'cluster',\n"
        "    node_args: '--max-old-space-size=400 --enable-source-maps',\n"
        "  }],\n};\n"
    )
    files = pm2(ecosystem)
    assert state(PACK.scan(view_of(files, SANDBOX)))["max_old_space_size"] == (400, True)
    finding = findings(files)["Node heap larger than the memory limit"]
    assert finding.category == "no-resource-limits" and "4 process" in finding.why
    assert [m.value for m in finding.fix] == [96]  # 75% of 512 MiB over 4 processes
    assert (
        "--max-old-space-size=96 --enable-source-maps"
        in fixed(files, finding)["ecosystem.config.js"]
    )
    everything_proves(files)


def test_plain_node_reads_its_flag_and_is_one_process() -> None:
    dockerfile = (
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\nENV NODE_ENV=production\n"
        'CMD ["node", "--max-old-space-size=1024", "server.js"]\n'
    )
    files = {"Dockerfile": dockerfile, "server.js": SERVER}
    seen = state(PACK.scan(view_of(files, SANDBOX)))
    assert "instances" not in seen
    assert seen["max_old_space_size"] == (1024, True)
    assert seen["NODE_ENV"] == ("production", True)
    found = findings(files)
    assert set(found) == {"node runs a single process", "Node heap larger than the memory limit"}
    assert found["node runs a single process"].fix == ()  # nothing to set: an opportunity
    heap = found["Node heap larger than the memory limit"]
    assert '"--max-old-space-size=384"' in fixed(files, heap)["Dockerfile"]
    everything_proves(files)


def test_node_options_keeps_its_other_options() -> None:
    dockerfile = (
        "FROM node:20-slim\nWORKDIR /app\nCOPY . .\n"
        'ENV NODE_OPTIONS="--enable-source-maps"\nCMD ["node", "server.js"]\n'
    )
    files = {"Dockerfile": dockerfile, "server.js": SERVER}
    heap = findings(files)["Node heap not sized to the memory limit"]
    assert (
        'ENV NODE_OPTIONS="--enable-source-maps --max-old-space-size=384"\n'
        in fixed(files, heap)["Dockerfile"]
    )
    everything_proves(files)


def test_pm2_runtime_instances_on_its_command_line() -> None:
    dockerfile = PM2.replace('"{file}"{more}', '"server.js", "-i", "1"')
    files = {"Dockerfile": dockerfile, "server.js": SERVER}
    seen = by_key(PACK.scan(view_of(files, SANDBOX)))
    assert (seen["node.instances"].value, str(seen["node.instances"].site)) == ("1", "Dockerfile:5")
    finding = findings(files)["pm2 runs a single instance"]
    assert '"-i", "2"' in fixed(files, finding)["Dockerfile"]
    everything_proves(files)


def test_an_ecosystem_file_outside_the_targets_is_only_an_opportunity() -> None:
    files = load("express-pm2")
    view = view_of(files, SANDBOX, targets={"Dockerfile"})
    found = {f.title: f for f in PACK.detect(view, PACK.scan(view))}
    assert found["pm2 runs a single instance"].fix == ()
    assert found["NODE_ENV is not production"].fix != ()  # the Dockerfile still is one


def test_a_python_service_is_not_node() -> None:
    files = {"Dockerfile": "FROM python:3.12\nCOPY . .\nCMD python app.py\n", "app.py": "x = 1\n"}
    assert PACK.scan(view_of(files, SANDBOX)) == []
