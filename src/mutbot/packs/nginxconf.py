"""nginx's configuration syntax (pure): directives and blocks with the span of every argument,
read as nginx reads them (comments, quotes, `${var}` in a word), and where a missing
directive goes in a block, written in the file's own indentation."""

from __future__ import annotations

from dataclasses import dataclass

Word = tuple[str, int, int]  # the text as nginx reads it, and its span in the file


@dataclass
class Directive:
    """One directive, or a block (`opened`/`closed` set) with its arguments."""

    name: str
    args: list[Word]
    start: int
    end: int  # just after its `;` or `{`
    context: tuple[str, ...]  # the enclosing blocks, outermost first: ("main", "http", ...)
    opened: int = -1  # a block: just after its `{`
    closed: int = -1  # a block: at its `}`

    @property
    def raw(self) -> str:
        return " ".join(a[0] for a in self.args)


@dataclass(frozen=True)
class Conf:
    path: str
    text: str
    nodes: tuple[Directive, ...]
    main: bool  # the main nginx.conf; else a file the http block includes

    def line(self, at: int) -> int:
        return self.text.count("\n", 0, at) + 1

    def block(self, name: str) -> Directive | None:
        return next((n for n in self.nodes if n.name == name and n.opened >= 0), None)


def parse(text: str, base: str = "main") -> list[Directive]:
    """Every directive in file order; `base` is the context the file's top level is in."""
    nodes: list[Directive] = []
    stack: list[Directive | None] = []
    words: list[Word] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif ch in ";{":
            node = None
            if words:
                context = (base, *(n.name for n in stack if n is not None))
                node = Directive(words[0][0], words[1:], words[0][1], i + 1, context)
                nodes.append(node)
            if ch == "{":
                if node is not None:
                    node.opened = i + 1
                stack.append(node)
            words, i = [], i + 1
        elif ch == "}":
            if stack and (node := stack.pop()) is not None:
                node.closed = i
            words, i = [], i + 1
        else:
            word, i = _word(text, i)
            words.append(word)
    return nodes


def _word(text: str, i: int) -> tuple[Word, int]:
    if text[i] in "\"'":
        j = i + 1
        while j < len(text) and text[j] != text[i]:
            j += 2 if text[j] == "\\" else 1
        return (text[i + 1 : j], i + 1, j), j + 1
    j = i
    while j < len(text) and not text[j].isspace() and text[j] not in ";{}":
        if text.startswith("${", j):  # a variable in braces stays in the word
            j = text.find("}", j) + 1 or len(text)
        else:
            j += 1
    return (text[i:j], i, j), j


def insertion(conf: Conf, block: Directive | None) -> tuple[int, int, str, str]:
    """Where a missing directive goes in `block` (None: the main context), as (offset, line,
    text before it, text after it): on its own line at the indentation of the block's first
    directive, right after the block's `{`; in the main context before the first block."""
    text = conf.text
    if block is None:  # after the last top-level directive before the first block
        top = [n for n in conf.nodes if n.context == ("main",)]
        first = next((i for i, n in enumerate(top) if n.opened >= 0), len(top))
        if first > 0 and (eol := text.find("\n", top[first - 1].end)) >= 0:
            own = text[text.rfind("\n", 0, top[first - 1].start) + 1 : top[first - 1].start]
            return eol + 1, conf.line(eol + 1), own if not own.strip() else "", "\n"
        at = text.rfind("\n", 0, top[first].start) + 1 if first < len(top) else len(text)
        newline = "" if at == 0 or text[at - 1] == "\n" else "\n"
        return at, conf.line(at) + (1 if newline else 0), newline, "\n"
    rest = text[block.opened : (text.find("\n", block.opened) + 1) or len(text)]
    if rest.split("#", 1)[0].strip() or not rest.endswith("\n"):  # `server { listen 80; ...`
        return block.opened, conf.line(block.opened), " ", ""
    at = block.opened + len(rest)
    inner = next((n for n in conf.nodes if block.opened <= n.start < block.closed), None)
    own = text[text.rfind("\n", 0, block.start) + 1 : block.start]
    indent = own[: len(own) - len(own.lstrip())] + "    "
    before = text[text.rfind("\n", 0, inner.start) + 1 : inner.start] if inner else ""
    if before and not before.strip():
        indent = before
    return at, conf.line(at), indent, "\n"
