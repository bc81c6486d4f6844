"""A reporter that remembers what the pipeline said, for assertions."""

from __future__ import annotations


class RecordingReporter:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def stage(self, slug: str, text: str) -> None:
        self.events.append((slug, text))

    def note(self, text: str) -> None:
        self.notes.append(text)
