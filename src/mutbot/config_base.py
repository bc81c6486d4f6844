"""What every section of .mutbot.yml shares: strict frozen models and the value types read
from human units (pure)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from mutbot import globs
from mutbot.units import DAY, parse_duration, parse_fraction, parse_size, shown


def _long_duration(value: object) -> float:
    return parse_duration(value, most=90 * DAY)


def _kept(value: str) -> str:
    file, colon, key = value.partition(":")
    if not colon or not key:
        raise ValueError(
            f"expected FILE:KEY, e.g. config/server.ini:server.threads, got {shown(value)}"
        )
    globs.check(file)
    return value


# Sandbox, tests, load and LLM durations are at most 24h; production windows may be long.
Duration = Annotated[float, BeforeValidator(parse_duration)]
LongDuration = Annotated[float, BeforeValidator(_long_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
Percent = Annotated[float, BeforeValidator(parse_fraction)]
Glob = Annotated[str, AfterValidator(globs.check)]
Kept = Annotated[str, AfterValidator(_kept)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)
