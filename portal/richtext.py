"""Rich text: the one place markup from people is cleaned before it is stored.

Nothing else may import bleach. Upstream has said bleach gets no further releases, so this module
is the seam where the engine could be replaced; the nonce-based Content-Security-Policy is the
second line of defence should a bypass ever be found.
"""

from __future__ import annotations

import re
from html import escape, unescape
from urllib.parse import urlsplit

import bleach
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup

ALLOWED_TAGS = frozenset({"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "a"})
ALLOWED_ATTRIBUTES = {"a": ["href", "rel"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

# Text with something that looks like a tag is treated as markup; anything else is plain text.
_LOOKS_LIKE_MARKUP = re.compile(r"<[a-zA-Z!/]")


def _set_link_rel(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    # The cleaner passes addresses with no scheme at all ("/sign-out", "//elsewhere.example", "#top"),
    # which would point into the portal itself or borrow its scheme; only the allowed schemes may link.
    if not href or _scheme_of(href) not in ALLOWED_PROTOCOLS:
        return None  # a link without a safe address becomes plain text
    attrs[(None, "rel")] = LINK_REL
    return attrs


def _scheme_of(href: str) -> str:
    try:
        return urlsplit(href.strip()).scheme.lower()
    except ValueError:  # a malformed address (an unclosed IPv6 bracket, say) links nowhere
        return ""


_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=ALLOWED_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[lambda source: LinkifyFilter(source, callbacks=[_set_link_rel], parse_email=True)],
)


def sanitise_html(value: str | None) -> str:
    """Markup reduced to the allow-list: paragraphs, line breaks, emphasis, lists, quotes and safe links."""
    if not value:
        return ""
    return _cleaner.clean(value).strip()


def rich_text_from_input(value: str | None) -> str:
    """What someone typed, as clean markup: pasted markup is cleaned; plain text becomes paragraphs."""
    if not value or not value.strip():
        return ""
    if _LOOKS_LIKE_MARKUP.search(value):
        return sanitise_html(value)
    paragraphs = re.split(r"\n\s*\n", value.strip().replace("\r\n", "\n"))
    html = "".join("<p>" + escape(paragraph.strip()).replace("\n", "<br>") + "</p>" for paragraph in paragraphs)
    return sanitise_html(html)


def rich_text(value: str | None) -> Markup:
    """Stored rich text for a template, cleaned once more on the way out."""
    return Markup(sanitise_html(value))  # noqa: S704 (the cleaner's output is the only markup trusted)


def plain_text(value: str | None) -> str:
    """Rich text without its markup, for emails, CSV files and the calendar."""
    if not value:
        return ""
    spaced = re.sub(r"</(p|li|blockquote)>|<br\s*/?>", "\n", value)
    # Unescaped once, all entities at once: replacing them one by one turned a typed "&amp;lt;" into "<".
    return unescape(bleach.clean(spaced, tags=set(), strip=True)).strip()


def editable_text(value: str | None) -> str:
    """What to put back in the box for editing: the words as typed when that loses nothing, else the markup.

    Text typed as paragraphs comes back as paragraphs, so most people never see a tag; markup that was
    pasted in (a list, emphasis) is shown as markup so that saving again keeps it.
    """
    if not value:
        return ""
    typed = plain_text(value)
    return typed if rich_text_from_input(typed) == value else value
