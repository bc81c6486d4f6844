"""Prompt templates: the defaults ship in the `mutbot_prompts` package; a user folder
(`propose.prompts`) may replace any of them by file name. The templates hold all prompt text."""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

import jinja2

from mutbot.errors import ConfigError

_FILE_END = re.compile(r"</(\s*file)", re.IGNORECASE)


def fence(text: str) -> str:
    """Neutralise `</file` so a file's text cannot close its own `<file>` block."""
    return _FILE_END.sub(r"<\\/\1", text)


def attribute(text: str) -> str:
    """Safe inside a double-quoted attribute: paths come from config globs, still data."""
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _default_source(name: str) -> tuple[str, str, Callable[[], bool]] | None:
    resource = files("mutbot_prompts").joinpath(name)
    if not resource.is_file():
        return None
    return resource.read_text(encoding="utf-8"), str(resource), lambda: True


def _environment(overrides: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if overrides is not None:
        loaders.append(jinja2.FileSystemLoader(overrides))
    loaders.append(jinja2.FunctionLoader(_default_source))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=False,  # markdown for a model, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["fence"] = fence
    env.filters["attribute"] = attribute
    return env


def template_name(name: str) -> str:
    """'propose' or 'propose.md.j2' -> 'propose.md.j2'."""
    return name if name.endswith(".j2") else f"{name}.md.j2"


def render(name: str, overrides: Path | None, **context: object) -> str:
    """Render a prompt template; every problem is a ConfigError naming the file and line."""
    if overrides is not None and not overrides.is_dir():
        raise ConfigError(f"propose.prompts: {overrides}: no such folder of prompt templates")
    env = _environment(overrides)
    filename = template_name(name)
    try:
        template = env.get_template(filename)
        return template.render(**context)
    except jinja2.TemplateNotFound as exc:
        where = f" or in {overrides}" if overrides is not None else ""
        raise ConfigError(f"{exc.name}: no such prompt template in mutbot_prompts{where}") from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(f"{exc.filename or filename}: line {exc.lineno}: {exc.message}") from exc
    except jinja2.TemplateError as exc:
        raise ConfigError(f"{_where(exc, filename)}: {exc.message or exc}") from exc


def _where(exc: BaseException, fallback: str) -> str:
    """The template file and line of a render error; jinja puts template frames in the trace."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return f"{frame.filename}: line {frame.lineno}"
    return fallback
