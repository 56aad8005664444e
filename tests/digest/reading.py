"""Reading a digest's HTML as a mail client would: its tags, the addresses it names, its images."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

URL_ATTRIBUTES = {"href", "src", "background", "action", "poster", "srcset", "formaction", "cite", "data"}


@dataclass
class Tag:
    name: str
    attributes: dict[str, str]


@dataclass
class Page(HTMLParser):
    """Every tag with its attributes, and the text a reader sees."""

    tags: list[Tag] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(Tag(tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def named(self, name: str) -> list[Tag]:
        return [tag for tag in self.tags if tag.name == name]

    def addresses(self) -> list[str]:
        return [
            value for tag in self.tags for name, value in tag.attributes.items() if name in URL_ATTRIBUTES
        ]

    def handlers(self) -> list[str]:
        return [name for tag in self.tags for name in tag.attributes if name.startswith("on")]

    def styles(self) -> list[str]:
        return [tag.attributes["style"] for tag in self.tags if "style" in tag.attributes]

    def seen(self) -> str:
        return " ".join(" ".join(self.text).split())


def read(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page
