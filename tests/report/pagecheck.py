"""Reading a report page back as a tree (standard library only) and the checks every report must pass."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return " ".join(" ".join(c if isinstance(c, str) else c.text() for c in self.children).split())

    def elements(self) -> list[Node]:
        return [c for c in self.children if isinstance(c, Node)]

    def find_all(self, tag: str, cls: str | None = None) -> list[Node]:
        out = []
        for c in self.elements():
            if c.tag == tag and (cls is None or cls in c.classes):
                out.append(c)
            out += c.find_all(tag, cls)
        return out


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip() and self.stack[-1].tag not in ("style", "script"):
            self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    """The page as a tree; every element must be closed where it opened."""
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert builder.stack == [builder.root], "unclosed elements: " + ", ".join(n.tag for n in builder.stack[1:])
    return builder.root


def parts(root: Node) -> list[Node]:
    return root.find_all("section", "part")


def check_part(part: Node, sentence: str) -> None:
    """A part leads with its decision: heading, then the sentence as its first text, then exactly one
    hero figure, then the key table; everything else is in collapsed sections with a label and a why."""
    heading, first, *rest = part.elements()
    assert heading.tag == "h2"
    assert first.tag == "p" and "decision" in first.classes and first.text() == sentence
    heroes = part.find_all("figure", "hero")
    assert len(heroes) == 1 and rest[0] is heroes[0]
    assert rest[1].tag == "table" and "what-if" in rest[1].classes
    for details in part.find_all("details"):
        assert "open" not in details.attrs
        summary, why, *_ = details.elements()
        assert summary.tag == "summary" and summary.text() and why.tag == "p" and "why" in why.classes
    outside = [e for e in rest[2:] if e.tag != "div" or "more" not in e.classes]
    assert not outside, [e.tag for e in outside]


def check_self_contained(page: str, directory: Path) -> Node:
    """Nothing the page shows or links to lies outside it: images and downloads are data URIs, links
    are anchors into the page (or files that exist beside it); no URL is fetched."""
    root = parse(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page and not re.search(r"url\(\s*['\"]?(?!data:)", page)
    assert not root.find_all("link") and not root.find_all("iframe")
    ids = {n.attrs.get("id") for n in _all(root)}
    for node in _all(root):
        src = node.attrs.get("src")
        if src is not None:
            assert src.startswith("data:image/"), src[:40]
            _decodes(src)
        href = node.attrs.get("href")
        if href is not None:
            if href.startswith("#"):
                assert href[1:] in ids, href
            elif href.startswith("data:"):
                _decodes(href)
            else:
                assert (directory / href).exists(), href
    for script in root.find_all("script"):
        assert "src" not in script.attrs
    return root


def _decodes(uri: str) -> None:
    head, _, data = uri.partition(",")
    assert head.endswith(";base64") and len(base64.b64decode(data, validate=True)) > 500


def _all(node: Node) -> list[Node]:
    out = []
    for c in node.elements():
        out += [c, *_all(c)]
    return out


def images(node: Node) -> list[tuple[str, bytes]]:
    """Every embedded image below ``node`` (the figures and their PNG downloads): mime type and bytes."""
    out = []
    for n in _all(node):
        for key in ("src", "href"):
            uri = n.attrs.get(key) or ""
            if uri.startswith("data:image/"):
                head, _, data = uri.partition(",")
                out.append((head[5:].split(";")[0], base64.b64decode(data)))
    return out
