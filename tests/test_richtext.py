"""The one sanitiser: every cross-site scripting payload in the corpus comes out as harmless markup.

The output is read back with the standard library's HTML parser, the way a browser would tokenise
it, rather than searched for strings: what matters is which elements and attributes a browser
would build from it.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from portal.richtext import plain_text, rich_text, rich_text_from_input, sanitise_html

PAYLOADS = [line for line in (Path(__file__).parent / "xss_payloads.txt").read_text().splitlines() if line]

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "a"}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "noopener noreferrer"


class AllowListCheck(HTMLParser):
    """Collects everything in a piece of HTML that the allow-list does not permit."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"<{tag}> is not allowed")
            return
        names = [name for name, _value in attrs]
        if tag != "a":
            if names:
                self.problems.append(f"<{tag}> has attributes {names}")
            return
        link = dict(attrs)
        self.links.append(link)
        if set(names) - {"href", "rel"} or len(names) != len(set(names)):
            self.problems.append(f"<a> has attributes {names}")
        href = (link.get("href") or "").strip()
        scheme = urlsplit(href).scheme.lower() if href else ""
        if scheme not in ALLOWED_SCHEMES:
            self.problems.append(f"<a> links to {href!r}")
        if link.get("rel") != LINK_REL:
            self.problems.append(f"<a> has rel={link.get('rel')!r}")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_comment(self, data: str) -> None:
        self.problems.append(f"a comment: {data!r}")

    def handle_decl(self, decl: str) -> None:
        self.problems.append(f"a declaration: {decl!r}")

    def unknown_decl(self, data: str) -> None:
        self.problems.append(f"a marked section: {data!r}")

    def handle_pi(self, data: str) -> None:
        self.problems.append(f"a processing instruction: {data!r}")


def problems_in(html: str) -> list[str]:
    """What in ``html`` falls outside the allow-list (empty when it is all allowed)."""
    check = AllowListCheck()
    check.feed(html)
    check.close()
    return check.problems


def links_in(html: str) -> list[dict[str, str | None]]:
    check = AllowListCheck()
    check.feed(html)
    check.close()
    return check.links


def test_the_corpus_is_large_and_one_payload_a_line():
    assert len(PAYLOADS) >= 60
    assert len(set(PAYLOADS)) == len(PAYLOADS), "a payload appears twice"


def test_the_checker_catches_what_it_should():
    # A checker that cannot fail would make every test below meaningless.
    assert problems_in('<img src=x onerror="alert(1)">') == ["<img> is not allowed"]
    assert problems_in('<p onclick="alert(1)">x</p>') == ["<p> has attributes ['onclick']"]
    assert problems_in('<a href="javascript:alert(1)" rel="noopener noreferrer">x</a>') == [
        "<a> links to 'javascript:alert(1)'"
    ]
    assert problems_in('<a href="/sign-out" rel="noopener noreferrer">x</a>') == ["<a> links to '/sign-out'"]
    assert problems_in('<a href="https://example.org">x</a>') == ["<a> has rel=None"]
    assert problems_in("<!-- x -->") == ["a comment: ' x '"]
    assert problems_in('<a href="https://example.org" rel="noopener noreferrer">x</a>') == []


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_stored_as_allowed_markup_only(payload):
    stored = rich_text_from_input(payload)
    assert problems_in(stored) == [], f"{payload!r} was stored as {stored!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_cleaned_directly_is_allowed_markup_only(payload):
    cleaned = sanitise_html(payload)
    assert problems_in(cleaned) == [], f"{payload!r} was cleaned to {cleaned!r}"


@pytest.mark.parametrize("payload", PAYLOADS)
def test_stored_markup_is_shown_unchanged_and_cleaning_twice_changes_nothing(payload):
    stored = rich_text_from_input(payload)
    assert str(rich_text(stored)) == stored
    assert sanitise_html(stored) == stored


def test_all_the_payloads_together_are_still_allowed_markup_only():
    # One after another, unclosed tags and quotes from one payload meet the next one.
    together = "\n".join(PAYLOADS)
    assert problems_in(rich_text_from_input(together)) == []
    assert problems_in(sanitise_html(together)) == []


def test_markup_that_was_never_stored_is_cleaned_on_the_way_out():
    shown = str(rich_text('<p onclick="alert(1)">Hello</p><script>alert(1)</script><img src=x onerror=alert(1)>'))
    assert problems_in(shown) == []
    assert "Hello" in shown


# What people see of what they typed ------------------------------------------------------------------


def test_plain_text_becomes_paragraphs_and_line_breaks():
    assert rich_text_from_input("First line\nsecond line\n\nNext paragraph") == (
        "<p>First line<br>second line</p><p>Next paragraph</p>"
    )


def test_typed_angle_brackets_and_ampersands_are_kept_as_text():
    stored = rich_text_from_input("Risk scores < 3 & > 1 were missed")
    assert stored == "<p>Risk scores &lt; 3 &amp; &gt; 1 were missed</p>"
    assert plain_text(stored) == "Risk scores < 3 & > 1 were missed"


def test_addresses_become_links_that_open_safely():
    stored = rich_text_from_input("See https://example.org/guide and write to lead@example.org")
    assert links_in(stored) == [
        {"href": "https://example.org/guide", "rel": LINK_REL},
        {"href": "mailto:lead@example.org", "rel": LINK_REL},
    ]
    assert problems_in(stored) == []


def test_pasted_formatting_within_the_allow_list_is_kept():
    pasted = (
        "<p>We <strong>must</strong> <em>ask</em>:</p><ul><li>one</li></ul><ol><li>two</li></ol>"
        "<blockquote>q</blockquote>"
    )
    assert rich_text_from_input(pasted) == pasted


def test_a_link_keeps_only_its_address_and_gets_the_safe_rel():
    stored = rich_text_from_input('<a href="https://example.org" target="_blank" rel="opener" id="x">guide</a>')
    assert stored == '<a href="https://example.org" rel="noopener noreferrer">guide</a>'


@pytest.mark.parametrize(
    "href",
    [
        "/sign-out",
        "//elsewhere.example/path",
        "#main-content",
        "?page=2",
        "javascript:alert(1)",
        "data:,x",
        "http://[::1",
    ],
)
def test_links_without_an_allowed_scheme_become_plain_text(href):
    stored = rich_text_from_input(f'<p><a href="{href}">the words stay</a></p>')
    assert stored == "<p>the words stay</p>"


def test_plain_text_unescapes_each_entity_once():
    assert plain_text("<p>Tom &amp; Jerry</p><p>&amp;lt;b&amp;gt; is how a tag is written</p>") == (
        "Tom & Jerry\n\n&lt;b&gt; is how a tag is written"
    )
    assert plain_text("<ul><li>one</li><li>two</li></ul>").split() == ["one", "two"]


def test_nothing_in_gives_nothing_out():
    assert rich_text_from_input(None) == ""
    assert rich_text_from_input("   \n ") == ""
    assert sanitise_html("") == ""
    assert str(rich_text(None)) == ""
    assert plain_text(None) == ""
