"""What proposing costs: the packs' survey and the search proposer's time on the example and
the sample repositories, and the size and worst-case price of the Anthropic proposer's requests
on the example.

    python benchmarks/proposers.py [--repeat 20]

The Anthropic figures are computed from the rendered prompts (no API is called): input tokens
are estimated at one per 3 bytes (the proposer's own, deliberately high, estimate), output at
`llm.max_tokens`; a real run is charged what the API reports in `usage`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mutbot.packs.survey import survey
from mutbot.prompts import render
from mutbot.proposers.anthropic_candidates import tool_definition
from mutbot.proposers.anthropic_proposer import cost_usd, prompt_context
from mutbot.proposers.base import CATEGORIES, ProposalRequest
from mutbot.proposers.search import SearchProposer
from testing import proposals
from testing.packs import sample_view, samples


def example_request() -> ProposalRequest:
    """The example's real files, as a run would see them before measuring (no baseline)."""
    return proposals.example_request(baseline=None, count=8, radical_share=0.25)


def timed(action: object, repeat: int) -> float:
    assert callable(action)
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    request = example_request()
    proposal = SearchProposer().propose(request)
    print(
        f"example: {len(request.opportunities)} opportunities, "
        f"{len(proposal.candidates)} search candidates:"
    )
    for c in proposal.candidates:
        print(f"  {c.kind:<11} {c.title}")
    ms = timed(lambda: SearchProposer().propose(request), args.repeat)
    print(f"example: search, median of {args.repeat}: {ms:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        views = [sample_view(folder, Path(tmp)) for folder in samples()]
    found = [o for view in views for o in survey(view).opportunities()]
    ms = timed(lambda: [survey(view) for view in views], args.repeat)
    by_category = {c: sum(1 for o in found if o.category == c) for c in CATEGORIES}
    print(
        f"samples: {len(views)} repositories, {len(found)} opportunities, "
        f"pack survey median {ms:.1f} ms"
    )
    print("  " + ", ".join(f"{c} {n}" for c, n in by_category.items() if n))

    llm = request.config.llm
    system = render("system", None, categories=CATEGORIES)
    tool = json.dumps(tool_definition())
    for kind, incremental, radical in (("incremental", 6, 0), ("radical", 0, 2)):
        user = render("propose", None, **prompt_context(request, incremental, radical))
        size = len(system.encode()) + len(user.encode()) + len(tool.encode())
        tokens = size // 3
        worst = cost_usd(tokens, llm.max_tokens, llm)
        print(
            f"anthropic {kind} request on the example: {size} bytes of prompt and tool schema, "
            f"≤ ~{tokens} input tokens; worst case at {llm.model} prices "
            f"(${llm.input_usd_per_mtok}/${llm.output_usd_per_mtok} per Mtok, "
            f"{llm.max_tokens} output tokens): ${worst:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
