"""Terminal output: a live table of each candidate's stage, then the ranking.

Candidate and repository text reaches the terminal (and CI logs) as plain text: never rich
markup (`[link=…]` would print a live hyperlink), never a control character (an escape sequence
could recolour, hide or rewrite what the log shows, or print its own hyperlinks)."""

from __future__ import annotations

import re
from types import TracebackType

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from mutbot.proposers.base import Opportunity
from mutbot.ranking import proposal_line, ranking_rows
from mutbot.results import RunResult

# C0 and C1 controls but newline and tab; the bidirectional overrides ("Trojan Source")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(text: str) -> str:
    """Text with every control character shown as an escape (`\\x1b`), so it prints as itself."""
    return _CONTROL.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found[0])
    return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"


def _cell(text: str) -> Text:
    return Text(plain(text))  # a Text is never read as markup


class ConsoleReporter:
    """Live table on a terminal; one plain line per change elsewhere (CI logs, pipes)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.stages: dict[str, str] = {}
        self._live: Live | None = None

    def __enter__(self) -> ConsoleReporter:
        if self.console.is_terminal:
            self._live = Live(
                self._table(), console=self.console, refresh_per_second=4, transient=True
            )
            self._live.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def stage(self, slug: str, text: str) -> None:
        self.stages[slug] = text
        if self._live is not None:
            self._live.update(self._table())
        else:
            self.console.print(
                plain(f"{slug}: {text}"), highlight=False, markup=False, soft_wrap=True
            )

    def note(self, text: str) -> None:
        self.console.print(plain(text), highlight=False, markup=False, soft_wrap=True)

    def _table(self) -> Table:
        table = Table("candidate", "stage", title="mutbot", title_justify="left")
        for slug, text in self.stages.items():
            table.add_row(_cell(slug), _cell(text))
        return table


def print_ranking(run: RunResult, console: Console) -> None:
    if run.proposal:
        print_opportunities(run.proposal.opportunities, console)
        console.print(plain(proposal_line(run)), highlight=False, markup=False)
    table = Table("#", "candidate", "verdict", "detail", title="Ranking", title_justify="left")
    for row in ranking_rows(run):
        table.add_row(*map(_cell, row))
    console.print(table)
    if run.pareto:
        also = run.objective.get("also") or []
        assert isinstance(also, list)
        objectives = [str(run.objective["primary"]), *map(str, also)]
        titles = {c.slug: c.title for c in run.candidates}
        console.print(
            plain(
                f"Pareto front over {', '.join(objectives)}: "
                + "; ".join(titles[slug] for slug in run.pareto)
            ),
            highlight=False,
            markup=False,
        )


def print_opportunities(found: list[Opportunity], console: Console) -> None:
    if not found:
        return
    table = Table("category", "where", "why", title="Opportunities", title_justify="left")
    for item in found:
        table.add_row(_cell(item.category), _cell(f"{item.path}:{item.line}"), _cell(item.why))
    console.print(table)
