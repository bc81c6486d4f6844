"""Real GitHub webhook payloads from ../shared/fixtures/github-webhooks (next to the project)."""

from __future__ import annotations

import copy
import json
from typing import Any

from testing.repos import ROOT

WEBHOOKS = ROOT.parent / "shared" / "fixtures" / "github-webhooks"


def payload(name: str) -> dict[str, Any]:
    """A fresh copy of one payload, e.g. "issue_comment_created", to change in a test."""
    data: dict[str, Any] = json.loads((WEBHOOKS / f"{name}.json").read_text(encoding="utf-8"))
    return copy.deepcopy(data)
