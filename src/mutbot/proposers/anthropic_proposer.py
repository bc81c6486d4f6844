"""The Anthropic proposer: asks Claude, through the official SDK and a forced tool call, for
incremental and radical candidates; validates each one, sends the exact errors back for a bounded
number of repair rounds, and never spends past `llm.max_usd`. The API key lives only inside the
SDK client: never in notes, errors, logs or the Proposal."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import anthropic
from anthropic.types import Message, MessageParam, ToolChoiceToolParam, ToolParam

from mutbot.candidates import Candidate
from mutbot.config import Llm
from mutbot.errors import ProposerError
from mutbot.metrics import METRICS
from mutbot.policy import ALWAYS_PROTECTED
from mutbot.prompts import render
from mutbot.proposers.anthropic_candidates import (
    TOOL_NAME,
    Checked,
    check_submission,
    tool_definition,
)
from mutbot.proposers.base import CATEGORIES, Deduper, Proposal, ProposalRequest, Usage

Log = Callable[[str], None]
_TOKENS_PER_BYTE = 1 / 3  # an over-estimate for code and prose, until a real count is known


def _quiet(line: str) -> None:
    del line


class _Stop(Exception):
    """No further request (budget reached, or the API failed after the first request)."""


@dataclass
class _Session:
    client: anthropic.Anthropic
    request: ProposalRequest
    usage: Usage
    deduper: Deduper
    system: str
    notes: list[str] = field(default_factory=list)
    accepted: list[Candidate] = field(default_factory=list)
    sent: int = 0
    tokens_per_byte: float = _TOKENS_PER_BYTE


class AnthropicProposer:
    name = "anthropic"
    needs_baseline = True

    def __init__(
        self,
        api_key: str,
        llm: Llm,
        prompts: Path | None,
        base_url: str | None = None,
        log: Log = _quiet,
    ) -> None:
        def connect() -> anthropic.Anthropic:  # a closure: the key stays out of any repr
            return anthropic.Anthropic(
                api_key=api_key, base_url=base_url, timeout=llm.timeout, max_retries=llm.max_retries
            )

        self._connect = connect
        self._llm = llm
        self._prompts = prompts
        self._log = log

    def propose(self, request: ProposalRequest) -> Proposal:
        with self._connect() as client:  # closes its connections when done
            return self._propose(client, request)

    def _propose(self, client: anthropic.Anthropic, request: ProposalRequest) -> Proposal:
        session = _Session(
            client=client,
            request=request,
            usage=Usage(model=self._llm.model),
            deduper=Deduper.from_history(request.history),
            system=render("system", self._prompts, categories=CATEGORIES),
        )
        radical = min(request.count, math.floor(request.count * request.radical_share + 0.5))
        try:
            for kind, wanted in (("incremental", request.count - radical), ("radical", radical)):
                if wanted:
                    self._converse(session, kind, wanted)
        except _Stop:
            pass
        return Proposal(
            proposer=self.name,
            candidates=session.accepted[: request.count],
            notes=session.notes,
            usage=session.usage,
        )

    def _converse(self, s: _Session, kind: str, wanted: int) -> None:
        counts = {"incremental": 0, "radical": 0, kind: wanted}
        context = prompt_context(s.request, counts["incremental"], counts["radical"])
        messages: list[MessageParam] = [
            {"role": "user", "content": render("propose", self._prompts, **context)}
        ]
        got: list[str] = []
        for round_ in range(self._llm.repair_rounds + 1):
            label = f"{kind} proposal" if round_ == 0 else f"{kind} repair {round_}"
            response = self._send(s, messages, label)
            checked = self._collect(response, s.request)
            got += self._accept(s, checked.accepted, wanted - len(got))
            for refused in checked.refused:
                self._log(f"anthropic: refused {refused.title!r}: {'; '.join(refused.errors)}")
            for error in checked.general:
                self._log(f"anthropic: unusable answer: {error}")
            if checked.ok:
                return
            if len(got) >= wanted or round_ == self._llm.repair_rounds:
                s.notes += [f"{label}: {error}" for error in checked.general]
                s.notes += [f"refused {r.title!r}: {'; '.join(r.errors)}" for r in checked.refused]
                return
            messages += self._repair_turns(response, checked, got)

    def _deprecation_notes(self, s: _Session, warned: list[warnings.WarningMessage]) -> None:
        for warning in warned:
            if not issubclass(warning.category, DeprecationWarning):
                warnings.warn_explicit(  # not ours to judge: passed on as it was
                    warning.message, warning.category, warning.filename, warning.lineno
                )
                continue
            said = str(warning.message).strip().splitlines()[0][:300] if warning.message else ""
            note = f"llm.model {self._llm.model}: {said} Choose a current model."
            if note not in s.notes:
                s.notes.append(note)

    def _send(self, s: _Session, messages: list[MessageParam], label: str) -> Message:
        tools = [cast(ToolParam, tool_definition())]
        size = sum(len(part.encode()) for part in (s.system, json.dumps(messages), str(tools)))
        estimate = math.ceil(size * s.tokens_per_byte)
        worst = cost_usd(estimate, self._llm.max_tokens, self._llm)
        if s.usage.usd + worst > self._llm.max_usd:
            s.notes.append(
                f"budget: the {label} request was not sent: it could cost up to ${worst:.4f} "
                f"(about {estimate} input and {self._llm.max_tokens} output tokens), and with "
                f"${s.usage.usd:.4f} spent that would pass llm.max_usd ${self._llm.max_usd:.2f}"
            )
            self._log(f"anthropic: budget reached, {label} request not sent")
            raise _Stop
        first, s.sent = s.sent == 0, s.sent + 1
        self._log(f"anthropic: {label} request to {self._llm.model} (~{estimate} input tokens)")
        choice: ToolChoiceToolParam = {
            "type": "tool",
            "name": TOOL_NAME,
            "disable_parallel_tool_use": True,
        }
        try:
            # The SDK warns about a deprecated model on each request: one note instead.
            with warnings.catch_warnings(record=True) as warned:
                warnings.simplefilter("always", DeprecationWarning)
                response = s.client.messages.create(
                    model=self._llm.model,
                    max_tokens=self._llm.max_tokens,
                    system=s.system,
                    messages=messages,
                    tools=tools,
                    tool_choice=choice,
                )
            self._deprecation_notes(s, warned)
        except anthropic.APIError as exc:
            problem = self._describe(exc, s.client.api_key)
            self._log(f"anthropic: {label} request failed: {problem}")
            if first:
                raise ProposerError(f"Anthropic API request failed: {problem}") from None
            s.notes.append(
                f"the {label} request failed ({problem}); kept the {len(s.accepted)} "
                "candidates obtained before it"
            )
            raise _Stop from None
        self._count(s, response, size, label)
        return response

    def _count(self, s: _Session, response: Message, size: int, label: str) -> None:
        used = response.usage
        tokens_in = (
            used.input_tokens
            + (used.cache_creation_input_tokens or 0)
            + (used.cache_read_input_tokens or 0)
        )
        usd = cost_usd(tokens_in, used.output_tokens, self._llm)
        s.usage.requests += 1
        s.usage.input_tokens += tokens_in
        s.usage.output_tokens += used.output_tokens
        s.usage.usd += usd
        s.tokens_per_byte = max(s.tokens_per_byte, tokens_in / max(size, 1))
        self._log(
            f"anthropic: {label}: {tokens_in} input + {used.output_tokens} output tokens, "
            f"${usd:.4f} (run total ${s.usage.usd:.4f} of ${self._llm.max_usd:.2f})"
        )

    def _collect(self, response: Message, request: ProposalRequest) -> Checked:
        out = Checked()
        calls = [b for b in response.content if b.type == "tool_use" and b.name == TOOL_NAME]
        if not calls:
            out.general.append(f"the answer holds no call of the {TOOL_NAME} tool")
        for call in calls:
            part = check_submission(call.input, request)
            out.accepted += part.accepted
            out.refused += part.refused
            out.general += part.general
        if response.stop_reason == "max_tokens":
            out.general.append(
                f"the answer was cut off at {self._llm.max_tokens} output tokens; "
                "send fewer or shorter candidates"
            )
        return out

    def _accept(self, s: _Session, candidates: list[Candidate], room: int) -> list[str]:
        titles: list[str] = []
        for candidate in candidates:
            if len(titles) >= room or len(s.accepted) >= s.request.count:
                break
            if not s.deduper.fresh(candidate):
                s.notes.append(
                    f"dropped {candidate.title!r}: the same change as an earlier candidate "
                    f"({candidate.fingerprint})"
                )
                continue
            s.accepted.append(candidate)
            titles.append(candidate.title)
        return titles

    def _repair_turns(
        self, response: Message, checked: Checked, accepted: list[str]
    ) -> list[MessageParam]:
        text = render(
            "repair",
            self._prompts,
            general=checked.general,
            failed=[{"title": r.title, "errors": r.errors} for r in checked.refused],
            accepted=accepted,
            tool=TOOL_NAME,
        )
        echo: list[Any] = []
        for block in response.content:
            if block.type == "text":
                echo.append({"type": "text", "text": block.text})
            elif block.type == "tool_use":
                echo.append(
                    {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
                )
        calls = [b["id"] for b in echo if b["type"] == "tool_use"]
        answer: list[Any] = [
            {"type": "tool_result", "tool_use_id": i, "is_error": True, "content": text}
            for i in calls
        ]
        turns: list[MessageParam] = [{"role": "assistant", "content": echo}] if echo else []
        turns.append({"role": "user", "content": answer or text})
        return turns

    def _describe(self, exc: anthropic.APIError, key: str | None) -> str:
        """One line: status and error type, never the key (a server may echo what it got)."""
        retries = f"after {self._llm.max_retries} retries"
        if isinstance(exc, anthropic.APIStatusError):
            status, kind = exc.status_code, exc.type if isinstance(exc.type, str) else "error"
            said = exc.api_message if isinstance(exc.api_message, str) else ""
            if key:
                said = said.replace(key, "***")
            retried = status in (408, 409, 429) or status >= 500
            parts = (f"HTTP {status} {kind}", retries if retried else "", " ".join(said.split()))
            return " ".join(p for p in parts if p)[:300]
        if isinstance(exc, anthropic.APITimeoutError):
            return f"no answer within {self._llm.timeout:g} s (APITimeoutError) {retries}"
        if isinstance(exc, anthropic.APIConnectionError):
            return f"cannot connect (APIConnectionError) {retries}"
        return type(exc).__name__


def cost_usd(tokens_in: int, tokens_out: int, llm: Llm) -> float:
    return (tokens_in * llm.input_usd_per_mtok + tokens_out * llm.output_usd_per_mtok) / 1e6


def prompt_context(request: ProposalRequest, incremental: int, radical: int) -> dict[str, Any]:
    """What the propose template renders: data only, the words are in the template."""
    config, rules = request.config, request.rules
    ranked = sorted(request.opportunities, key=lambda o: -CATEGORIES.get(o.category, (0, ""))[0])
    return {
        "objective": {
            "primary": config.objective.primary,
            "also": config.objective.also,
            "limits": config.objective.limits(),
        },
        "metrics": METRICS,
        "sandbox": {"cpus": config.sandbox.cpus, "memory_mb": config.sandbox.memory // 2**20},
        "cost": config.cost,
        "baseline": request.baseline,
        "opportunities": ranked,
        "settings": pack_settings(request),
        "history": request.history,
        "keep": config.propose.keep,
        "protected": list(dict.fromkeys([*rules.protected, *ALWAYS_PROTECTED])),
        "limits": {"max_changed_lines": rules.max_changed_lines, "max_files": rules.max_files},
        "files": request.files,
        "incremental": incremental,
        "radical": radical,
        "tool": TOOL_NAME,
    }


def pack_settings(request: ProposalRequest) -> list[dict[str, Any]]:
    """What the technology packs see in the service: each setting in effect, its value (or its
    default, when nothing sets it), where, its safety class and whether a change is measured."""
    if request.survey is None:
        return []
    return [
        {
            "key": s.key,
            "value": s.raw if s.written and s.raw is not None else repr(s.value),
            "written": s.written,
            "where": str(s.site) if s.site else None,
            "safety": s.setting.safety,
            "unit": s.setting.unit,
            "measured": s.reaches != "none",
            "doc": s.setting.doc,
        }
        for s in request.survey.seen
    ][:200]


def create(api_key: str, llm: Llm, prompts: Path | None, log: Log) -> AnthropicProposer:
    """The base URL comes from the SDK's own ANTHROPIC_BASE_URL handling, else the public API."""
    return AnthropicProposer(api_key, llm, prompts, log=log)
