"""Risk and complexity of a candidate diff, computed from the diff alone (pure).

A candidate that measures better but scores too high is held for manual review (docs/risk.md).
The proposer's own rating can only raise the risk: a candidate never talks itself past review.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from unidiff.patch import PatchedFile, PatchSet


@dataclass(frozen=True)
class Finding:
    rule: str  # short id, e.g. "base-image"
    points: float  # contribution to the score
    where: str  # "Dockerfile:1": line in the new file, or in the old file for a removal
    why: str  # one short sentence for the PR body


@dataclass(frozen=True)
class Assessment:
    score: float  # 0..10, rounded to one decimal
    findings: tuple[Finding, ...]


# Rules, in report order. Line rules count once per diff, at their first match.
RULES: dict[str, tuple[float, str]] = {
    "base-image": (4.0, "The base image or runtime changes."),
    "entrypoint": (3.0, "The start-up command changes."),
    "security": (3.0, "A security-relevant setting or permission changes."),
    "server-model": (2.0, "The worker model or concurrency changes."),
    "resource-limits": (2.0, "Memory, CPU or heap limits change."),
    "package-install": (1.0, "The packages installed at build time change."),
    "deleted-file": (2.0, "A file is deleted or renamed; whatever refers to it breaks."),
    "new-file": (0.5, "A new file is added."),
}
_UNPARSABLE = Finding("unparsable", 10.0, "diff", "The diff does not parse, so cannot be judged.")

_DOCKERFILE = re.compile(
    r"(?:.*/)?(?:(?:docker|container)file(?:\.[^/]*)?|[^/]*\.(?:docker|container)file)", re.I
)
_INSTRUCTIONS = frozenset(
    {"FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT"}
    | {"VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL"}
)
# `key = v`, `key: v`, `KEY=v`, `"key": v`, `- key: v`, `export KEY=v`, nginx `key value;`
_KEY = re.compile(
    r"""\s*(?:-\s+)?(?:export\s+)?["']?([A-Za-z_][\w.\-]*)["']?\s*(?:[=:]|\s(?=[^;{]*;\s*$))(.*)"""
)
_ENV_PAIR = re.compile(r"([A-Za-z_]\w*)=(\S*)")
_IDENT = re.compile(r"[A-Za-z_][\w.\-]*")
# Key patterns match normalised keys: snake_case, lower case, `.`/`-` turned into `_`.
_BASE_ARG = re.compile(r"(?:^|_)(?:image|base|tag|version)(?:_|$)")
_ENTRY_KEYS = frozenset({"command", "args", "entrypoint", "cmd"})
_SERVER_KEY = re.compile(
    r"(?:^|_)(?:workers?|worker_class|worker_type|worker_connections|threads|processes"
    r"|concurrency|async|async_mode|event_loop|loop|threadpool_size|thread_pool_size)$"
)
_RESOURCE_KEY = re.compile(
    r"^(?:resources|limits|requests|memory|cpus?|cpu_shares|cpu_quota|cpu_period|cpuset"
    r"|mem_reservation|memswap_limit|shm_size|pids_limit|ulimits?|nofile|gomaxprocs|gomemlimit"
    r"|max_old_space_size)$|(?:^|_)(?:memory|mem|heap)_(?:limit|size|max)$"
)
_SECURITY_KEY = re.compile(
    r"^(?:privileged|cap_add|cap_drop|capabilities|security_context|security_opt|run_as_user"
    r"|run_as_group|run_as_non_root|allow_privilege_escalation|read_only_root_filesystem"
    r"|host_network|host_pid|host_ipc|network_mode|user|uid|gid|allowed_hosts"
    r"|forwarded_allow_ips)$|(?:^|_)(?:tls|ssl|cert|auth(?!ors?(?:_|$))|oauth|passw|secret"
    r"|token|cors|csrf|xsrf|keyfile|insecure)"
)
_SECURITY_TEXT = re.compile(
    r"\bch(?:mod|own)\b|--(?:no-verify|insecure|trusted-host|allow-unauthenticated"
    r"|no-check-certificate|privileged|cap-add)\b|\|\s*(?:ba)?sh\b"
)
_RESOURCE_TEXT = re.compile(
    r"-Xm[xs]\d|-XX:\w*(?:RAM|Heap)|\bGOMAXPROCS\b|\bGOMEMLIMIT\b|--max-old-space-size|\bulimit\b"
)
_SERVER_TEXT = re.compile(
    r"--(?:workers|threads|worker-class|worker-connections|processes|concurrency|loop)\b"
)
_INSTALL = re.compile(
    r"\b(?:apt-get|apt|apk|pip3?|npm|pnpm|yarn|yum|dnf|microdnf|zypper|gem|conda|poetry|uv)"
    r"(?:\s+-\S+)*\s+(?:pip\s+)?(?:install|add|ci)\b"
)
_TRUE, _FALSE = frozenset({"true", "1", "yes", "on"}), frozenset({"false", "0", "no", "off"})


_Pairs = tuple[tuple[str, str], ...]  # (normalised key, value)
_Keys = tuple[str, ...]


@dataclass
class _Side:
    """What one side (old or new) of a hunk has shown so far."""

    instruction: str = ""  # Dockerfile instruction being continued
    text: str = ""  # that instruction so far, continuation lines joined
    cont: bool = False
    stack: list[tuple[int, str]] = field(default_factory=list)  # (indent, key) of open blocks
    name: str = ""  # last `name:` value: the key of a following `value:` (k8s env lists)


def _norm(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).lower().replace("-", "_").replace(".", "_")


def _docker_step(side: _Side, body: str) -> tuple[str, _Pairs]:
    word = body.split()[0].upper()
    starts = not side.cont and word in _INSTRUCTIONS
    if starts:
        side.instruction, side.text = word, body
    else:  # a continuation, or the first line of a hunk that opens inside an instruction
        side.text = f"{side.text} {body}"
    side.cont = body.endswith("\\")
    if side.instruction not in ("ENV", "ARG"):
        return side.instruction, ()
    parts = body.split(None, 1)
    rest = (parts[1] if len(parts) > 1 else "") if starts else body
    pairs = _ENV_PAIR.findall(rest)
    if not pairs and starts and rest:  # legacy `ENV KEY value`
        pairs = [(rest.split()[0], "".join(rest.split()[1:2]))]
    return side.instruction, tuple((_norm(k), v.strip("\"'")) for k, v in pairs)


def _config_step(side: _Side, text: str) -> tuple[_Pairs, _Keys]:
    stripped = text.lstrip()
    depth = len(text) - len(stripped) + stripped.startswith("-")  # list items nest under keys
    while side.stack and side.stack[-1][0] >= depth:
        side.stack.pop()
    parents = tuple(key for _, key in side.stack)
    match = _KEY.match(text)
    if not match:
        return (), parents
    key, value = _norm(match[1]), match[2].strip().strip("\"',;").strip()
    side.stack.append((depth, key))
    if key == "name":  # `- name: WORKERS` names the setting; its `value:` follows
        side.name = _norm(value) if _IDENT.fullmatch(value) else ""
        key = side.name or key
    elif key in ("value", "value_from") and side.name:
        key = side.name
    return ((key, value),), parents


def _clean(raw: str | None) -> str:
    path = (raw or "").strip()
    if path == "/dev/null":
        return ""
    return path[2:] if path.startswith(("a/", "b/")) else path


def _lines(patched: PatchedFile) -> Iterator[tuple[str, list[str]]]:
    """Where each changed line of one file is, and the rules it fires."""
    old, new = _clean(patched.source_file), _clean(patched.target_file)
    docker = bool(_DOCKERFILE.fullmatch(new or old))
    for hunk in patched:
        header = (hunk.section_header or "").strip()
        opening = header.split()[0].upper() if header else ""
        start = opening if docker and opening in _INSTRUCTIONS else ""
        sides = {added: _Side(start, header if start else "") for added in (True, False)}
        for line in hunk:
            text = line.value.rstrip("\r\n")
            body = text.strip()
            if line.line_type not in "+- " or not body or body.startswith(("#", ";", "//")):
                continue  # comments and blank lines change nothing
            for added in (True, False) if line.is_context else (line.is_added,):
                side = sides[added]
                parents: _Keys = ()
                if docker:
                    instruction, pairs = _docker_step(side, body)
                else:
                    instruction, (pairs, parents) = "", _config_step(side, text)
                if not line.is_context:
                    number = line.target_line_no if added else line.source_line_no
                    logical = side.text if docker else text
                    rules = _line_rules(added, text, instruction, logical, pairs, parents)
                    yield f"{new if added else old}:{number}", rules


def _line_rules(
    add: bool, text: str, inst: str, logical: str, pairs: _Pairs, parents: _Keys
) -> list[str]:
    """inst: the Dockerfile instruction ("" elsewhere or unknown), logical: the whole instruction
    so far (else the line), pairs: (key, value) the line sets, parents: its enclosing keys."""
    own = [key for key, _ in pairs]
    keys = own + list(parents)

    def has(pattern: re.Pattern[str], among: list[str] = keys) -> bool:
        return any(pattern.search(key) for key in among)

    unsafe = add and any(  # turned on, not off
        ("debug" in k.split("_") and v.lower() in _TRUE)
        or ("verify" in k.split("_") and v.lower() in _FALSE)
        for k, v in pairs
    )
    hits = {
        "base-image": inst == "FROM" or (inst == "ARG" and has(_BASE_ARG, own)) or "image" in keys,
        "entrypoint": inst in ("CMD", "ENTRYPOINT") or not _ENTRY_KEYS.isdisjoint(keys),
        "security": inst == "USER"
        or unsafe
        or has(_SECURITY_KEY)
        or bool(_SECURITY_TEXT.search(text)),
        "server-model": has(_SERVER_KEY) or bool(_SERVER_TEXT.search(text)),
        "resource-limits": has(_RESOURCE_KEY) or bool(_RESOURCE_TEXT.search(text)),
        "package-install": inst in ("RUN", "") and bool(_INSTALL.search(logical)),
    }
    if hits["entrypoint"]:  # a worker flag in the start command is already an entrypoint change
        hits["server-model"] = False
    return [rule for rule, hit in hits.items() if hit]


def _parse(diff: str) -> PatchSet | None:
    try:
        patch = PatchSet(diff.replace("\r\n", "\n"))
    except Exception:  # whatever the parser trips on, the answer is "unparsable", not a crash
        return None
    return patch if len(patch) else None


def _score(findings: list[Finding]) -> float:
    return round(min(10.0, sum((f.points for f in findings), 0.0)), 1)


def _spread(patch: PatchSet, findings: list[Finding], hunk_points: float, nth: int) -> None:
    """The files and hunks findings, shared by risk and complexity."""
    files: list[str] = []
    hunks: list[str] = []
    for patched in patch:
        path = _clean(patched.target_file) or _clean(patched.source_file)
        files.append(path)
        hunks += [f"{path}:{h.target_start or h.source_start}" for h in patched]
    files = list(dict.fromkeys(files))
    if len(files) > 1:
        why = f"{len(files)} files change together."
        findings.append(Finding("files", float(min(3, len(files) - 1)), files[1], why))
    if hunk_points:
        why = f"The change is spread over {len(hunks)} hunks."
        findings.append(Finding("hunks", hunk_points, hunks[nth], why))


def assess_risk(diff: str, proposer_risk: float | None = None) -> Assessment:
    patch = _parse(diff)
    if patch is None:
        return Assessment(10.0, (_UNPARSABLE,))
    first: dict[str, str] = {}  # rule -> where it first matched
    for patched in patch:
        old, new = _clean(patched.source_file), _clean(patched.target_file)
        if old and old != new:  # deleted, or renamed away
            first.setdefault("deleted-file", old)
        elif new and not old:
            first.setdefault("new-file", new)
        for where, rules in _lines(patched):
            for rule in rules:
                first.setdefault(rule, where)
    findings = [Finding(r, p, first[r], why) for r, (p, why) in RULES.items() if r in first]
    hunks = sum(len(patched) for patched in patch)
    _spread(patch, findings, float(min(2, max(0, hunks - 2) // 3)), 2)
    score = _score(findings)
    # Compared before capping, so a NaN rating (never greater) is ignored.
    if proposer_risk is not None and proposer_risk > score:
        raised = round(float(min(10.0, proposer_risk)), 1)
        if raised > score:
            why = "The proposer rated it riskier."
            findings.append(Finding("proposer", round(raised - score, 1), "proposer", why))
            score = raised
    return Assessment(score, tuple(findings))


def assess_complexity(diff: str) -> Assessment:
    patch = _parse(diff)
    if patch is None:
        return Assessment(10.0, (_UNPARSABLE,))
    # A replaced line counts once: per hunk, the larger of its removed and added lines.
    changed = sum(max(h.removed, h.added) for patched in patch for h in patched)
    findings: list[Finding] = []
    if changed:
        where = _clean(patch[0].target_file) or _clean(patch[0].source_file)
        points = round(math.log2(1 + changed), 1)
        findings.append(
            Finding("lines", points, where, f"{changed} changed line{'s' * (changed != 1)}.")
        )
    hunks = sum(len(patched) for patched in patch)
    _spread(patch, findings, min(2.0, 0.5 * max(0, hunks - 1)), 1)
    for patched in patch:
        if patched.removed >= 10 and patched.added >= 10:
            where = _clean(patched.target_file) or _clean(patched.source_file)
            why = "A file is largely rewritten rather than edited."
            findings.append(Finding("rewrite", 1.0, where, why))
            break
    return Assessment(_score(findings), tuple(findings))
