"""Every expected failure is a MutbotError; the CLI turns it into one line and an exit code.

MutbotError
 ├── ConfigError        the config file is missing, unreadable or invalid       (exit 3)
 ├── CandidateError     the candidates file is missing or malformed            (exit 3)
 ├── GitError           the repository cannot be read, or a worktree fails      (exit 4)
 ├── SandboxError       no usable sandbox backend, or it failed outside a trial (exit 5)
 ├── BaselineError      the untouched baseline itself fails a stage             (exit 6)
 ├── LoadError          the load generator fails: nothing can be measured       (exit 7)
 ├── ProposerError      a proposer cannot propose at all (LLM outage, no key)   (exit 8)
 ├── GitHubError        the GitHub API or the push to the remote failed          (exit 9)
 ├── MonitorError       Prometheus cannot be asked (unreachable, bad query)      (exit 10)
 ├── LedgerError        the ledger file cannot be read or written                (exit 11)
 └── Interrupted        Ctrl-C, SIGTERM or the run's --timeout                  (exit 130)
"""

from __future__ import annotations


class MutbotError(Exception):
    exit_code = 2


class ConfigError(MutbotError):
    exit_code = 3


class CandidateError(MutbotError):
    exit_code = 3


class GitError(MutbotError):
    exit_code = 4


class SandboxError(MutbotError):
    exit_code = 5


class BaselineError(MutbotError):
    exit_code = 6


class LoadError(MutbotError):
    exit_code = 7


class ProposerError(MutbotError):
    exit_code = 8


class GitHubError(MutbotError):
    exit_code = 9


class MonitorError(MutbotError):
    exit_code = 10


class LedgerError(MutbotError):
    exit_code = 11


class Interrupted(MutbotError):
    exit_code = 130


class TrialInvalid(Exception):
    """A trial whose numbers cannot be trusted (saturated load generator, missed arrival rate):
    the pair is measured again, a bounded number of times."""


class StageFailure(Exception):
    """A candidate failed a pipeline stage: recorded on that candidate, never fatal to the run."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage = stage
        self.reason = reason
