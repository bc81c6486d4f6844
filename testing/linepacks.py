"""Small stand-in packs for testing the guard without the real ones: each reads `pattern`
lines of one file, one setting per pattern (the last line that matches is in effect)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mutbot.packs.model import (
    Finding,
    Move,
    Reaches,
    Safety,
    Seen,
    Setting,
    SettingType,
    Site,
    Value,
)
from mutbot.packs.view import View


@dataclass(frozen=True)
class Rule:
    setting: Setting
    pattern: re.Pattern[str]  # group 1: the value as written


def rule(name: str, pattern: str, safety: Safety = "tune", default: Value = None) -> Rule:
    kind: SettingType = "int" if isinstance(default, int) else "str"
    setting = Setting(name, kind, default, f"{name} (test)", safety)
    return Rule(setting, re.compile(pattern))


class LinePack:
    def __init__(self, name: str, path: str, rules: list[Rule], reaches: Reaches = "build"):
        self.name = name
        self.path = path
        self.rules = rules
        self.reach: Reaches = reaches
        self.settings = {r.setting.name: r.setting for r in rules}

    def scan(self, view: View) -> list[Seen]:
        text = view.repo.read(self.path)
        if text is None:
            return []
        lines = text.splitlines()
        out = []
        for found in self.rules:
            hits = [
                (n, m[1]) for n, line in enumerate(lines, 1) if (m := found.pattern.match(line))
            ]
            setting = found.setting
            if hits:
                line, raw = hits[-1]
                value: Value = int(raw) if raw.isdigit() else raw
                site = Site(self.path, line, "file")
                out.append(Seen(self.name, setting, value, True, site, raw, self.reach))
            elif setting.safety == "tune":
                site = Site(self.path, len(lines) + 1, "file")
                out.append(Seen(self.name, setting, setting.default, False, site, None, self.reach))
        return out

    def detect(self, view: View, seen: list[Seen]) -> list[Finding]:
        return []

    def explore(self, view: View, seen: list[Seen]) -> list[Move]:
        return []


class Broken(LinePack):
    """Fails on any file holding `trigger`."""

    def __init__(self, trigger: str) -> None:
        super().__init__("broken", "Dockerfile", [])
        self.trigger = trigger

    def scan(self, view: View) -> list[Seen]:
        if self.trigger in (view.repo.read(self.path) or ""):
            raise ValueError(f"cannot read {self.trigger!r}")
        return []


def example_packs() -> list[LinePack]:
    """What the bundled example (examples/pricing) and the guard's tests write."""
    return [
        LinePack(
            "docker",
            "Dockerfile",
            [
                rule("expose", r"EXPOSE (\S+)", "never"),
                rule("port", r"ENV PORT=(\S+)", "never"),
                rule("user", r"USER (\S+)", "prove"),
                rule("healthcheck", r"HEALTHCHECK (.*)", "never"),
                rule("workers", r"ENV WORKERS=(\S+)", default=1),
            ],
        ),
        LinePack(
            "settings",
            "config/server.ini",
            [
                rule("threads", r"threads = (\S+)", default=1),
                rule("cache_size", r"cache_size = (\S+)", default=0),
                rule("log_requests", r"log_requests = (\S+)", default="true"),
                rule("port", r"port = (\S+)", "never"),
                rule("host", r"host = (\S+)", "never"),
            ],
        ),
        LinePack(
            "compose",
            "compose.yaml",
            [
                rule("ports", r'\s*- "(\d+):\d+"', "never"),
                rule("retries", r"\s*retries: (\d+)", "never"),
                rule("memory", r"\s*memory: (\S+)", default="512m"),
            ],
            reaches="resources",
        ),
    ]
