"""The ledger: every candidate mutbot ever evaluated and what became of it, as an append-only
JSON-lines store (locally `.mutbot/ledger.jsonl`, in Actions the `mutbot/ledger` branch)."""

from mutbot.errors import LedgerError
from mutbot.ledger.branch import BranchLedger
from mutbot.ledger.model import Entry, evaluated
from mutbot.ledger.store import LOCAL_PATH, FileLedger, Ledger
from mutbot.ledger.views import Record, export_jsonl, fold, history, show

__all__ = [
    "LOCAL_PATH",
    "BranchLedger",
    "Entry",
    "FileLedger",
    "Ledger",
    "LedgerError",
    "Record",
    "evaluated",
    "export_jsonl",
    "fold",
    "history",
    "show",
]
