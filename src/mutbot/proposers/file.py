"""`--proposer file:PATH`: candidates written by hand or by `mutbot propose` elsewhere."""

from __future__ import annotations

from pathlib import Path

from mutbot.candidates import load_candidates
from mutbot.proposers.base import Deduper, Proposal, ProposalRequest


class FileProposer:
    name = "file"
    needs_baseline = False

    def __init__(self, path: Path) -> None:
        self.path = path
        load_candidates(path)  # a missing or malformed file fails before anything is built

    def propose(self, request: ProposalRequest) -> Proposal:
        # The list is the user's explicit choice: measured again, unless a maintainer refused it.
        dedupe = Deduper.refused(request.history)
        listed = load_candidates(self.path)
        fresh = [c for c in listed if dedupe.fresh(c)]
        notes = []
        if len(fresh) < len(listed):
            notes.append(
                f"{len(listed) - len(fresh)} of {len(listed)} candidates in {self.path} skipped: "
                "the same change is listed twice, or a maintainer closed, reverted or ignored it "
                "before"
            )
        return Proposal(proposer=f"file:{self.path}", candidates=fresh, notes=notes)
