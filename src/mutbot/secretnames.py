"""Which variable names hold secrets (pure): the one rule for what leaves mutbot's environment
at start (mutbot.hardening) and for what the config refuses to pass into a sandbox."""

from __future__ import annotations

# The exact names of the CI and bot credentials, then the words credentials are named with.
NAMES = frozenset(
    {
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "ANTHROPIC_API_KEY",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",  # carries a signed request token in its query
    }
)
WORDS = (
    "TOKEN", "SECRET", "PASSWORD", "PASSWD", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY",
    "CREDENTIAL", "AUTH_KEY",
)  # fmt: skip


def looks_secret(name: str) -> bool:
    """A credential's name: a CI token, a word credentials are named with, or a `…_KEY`
    (STRIPE_KEY, RAILS_MASTER_KEY, SIGNING_KEY: keys are secrets more often than not)."""
    upper = name.upper()
    return (
        upper in NAMES
        or any(word in upper for word in WORDS)
        or upper == "KEY"
        or upper.endswith("_KEY")
    )
