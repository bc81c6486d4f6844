"""The one error a format's reader raises, whatever its parser raised."""

from __future__ import annotations


class ParseError(ValueError):
    """The text is not valid in its format (the message names the parser's complaint)."""
