"""The first round of the closed-loop search (`--proposer tune`): the packs' fixes from the
offline search, and the LLM's candidates when an API key is set. The run then hands over to
mutbot.tune, whose model proposes every later configuration from what was measured."""

from __future__ import annotations

from dataclasses import dataclass

from mutbot.errors import ProposerError
from mutbot.proposers.base import Deduper, Proposal, ProposalRequest, Proposer


@dataclass
class Seeds:
    search: Proposer
    llm: Proposer | None = None
    name: str = "tune"
    needs_baseline: bool = True
    closed_loop: bool = True  # the run's loop takes over after these (mutbot.run.execute)

    def propose(self, request: ProposalRequest) -> Proposal:
        found = self.search.propose(request)
        notes = list(found.notes)
        candidates = list(found.candidates)
        usage = None
        if self.llm is not None:
            try:
                asked = self.llm.propose(request)
            except ProposerError as exc:  # the packs' seeds still run: recorded, not fatal
                notes.append(f"the LLM's seeds failed: {exc}")
            else:
                usage, notes = asked.usage, [*notes, *asked.notes]
                candidates = [*asked.candidates, *candidates]
        dedupe = Deduper()
        seeds = [c for c in candidates if dedupe.fresh(c)][: request.count]
        return Proposal(proposer=self.name, candidates=seeds, notes=notes, usage=usage)
