"""The anonymisation check: where a report's text still names the family or holds personal data.

A published review must not identify the child or the family. Before a report can be marked final,
its text is searched for the review's protected terms (names, addresses, schools, workplaces, dates
of birth) and for patterns of personal data. Every hit is shown in context, to be fixed or waived.
The search leans towards finding too much: a needless hit costs a coordinator one click, a missed
name can put a child at risk.

What counts as a hit, and the decisions behind it:

- **Protected terms** match case-insensitively as whole words: not where a letter or digit touches
  either end ("Ann" is not found in "Annual" or "planning", but is in "(Ann)", "ANN." and
  "Ann-Marie"). A possessive is part of the hit ("Ann's", "Jones'"). The words of a
  multi-word term may be separated by any whitespace, line breaks included. Straight and curly
  apostrophes match each other, and an accented letter matches itself whether the text stores it as
  one character or as a letter plus a combining accent. Punctuation at a term's ends is dropped
  ("Ann," is searched for as "Ann"); terms with no letters or digits are ignored.
- **Postcodes** follow the UK format, with the letters each position can hold, with or without the
  space, in upper or lower case. A mix of cases ("Y7 2nd term", "KS2 3rd") is read as ordinary
  text: school years and ordinals fit the postcode shape and are common in these reports.
- **Phone numbers** are UK numbers written nationally (0…) or internationally (+44 or 0044, with or
  without "(0)"), in groups separated by spaces or hyphens, the area code optionally in brackets.
  Numbers in use start 01, 02, 03, 05, 07, 08 or 09 and have 10 or 11 digits in national form, so
  10-digit numbers such as "0800 123 456" are hits. Years, amounts and reference numbers are not.
- **Email addresses**: a local part, "@", and a domain with at least one dot.
- **NHS numbers** are 10 digits written 3-3-4 (spaces, hyphens or nothing between the groups, the
  same both times) whose last digit is the modulus 11 check digit of the first nine. Ten digits
  that fail the check are not an NHS number, so they are not reported as one.
- **National Insurance numbers** are two prefix letters, six digits and a final letter A to D,
  spaced or not. Prefixes HMRC never allocates are not hits: a first letter D, F, I, Q, U or V, a
  second letter D, F, I, O, Q, U or V, and BG, GB, NK, KN, TN, NT and ZZ.
- **Dates** are hits only when they give a day, a month and a year, and only when that day exists:
  numeric day-month-year in the UK order ("12/03/2019", "12-03-2019", "12.03.19"), ISO
  ("2019-03-12"), and written ("12 March 2019", "12th of Mar 2019", "March 12, 2019"), with the
  weekday in front as part of the hit. "March 2019", "12 March" and "2019" are not full dates.
  Dotted dates need two-digit day and month unless the year has four digits, because "3.1.12" in
  a report is a paragraph number.

Each kind is found by a single pattern, so hits of one kind never overlap one another; hits of
different kinds may (a date of birth entered as a protected term is also a date).
"""

from __future__ import annotations

import enum
import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache


class HitKind(enum.StrEnum):
    """What was found: one of the review's protected terms, or a kind of personal data."""

    PROTECTED_TERM = "protected_term"
    POSTCODE = "postcode"
    PHONE = "phone"
    EMAIL = "email"
    NHS_NUMBER = "nhs_number"
    NI_NUMBER = "ni_number"
    DATE = "date"

    @property
    def label(self) -> str:
        return HIT_KIND_LABELS[self]


HIT_KIND_LABELS = {
    HitKind.PROTECTED_TERM: "Protected term",
    HitKind.POSTCODE: "Postcode",
    HitKind.PHONE: "Phone number",
    HitKind.EMAIL: "Email address",
    HitKind.NHS_NUMBER: "NHS number",
    HitKind.NI_NUMBER: "National Insurance number",
    HitKind.DATE: "Date",
}

_KIND_ORDER = {kind: position for position, kind in enumerate(HitKind)}

ELLIPSIS = "…"
# How many words either side of a hit tie a waiver to that occurrence.
WAIVER_WINDOW_WORDS = 3

# "Not touching a letter or digit": combining accents count as part of the letter they follow.
_NOT_AFTER_WORD = r"(?<![^\W_])(?<![\u0300-\u036f])"
_NOT_BEFORE_WORD = r"(?![^\W_]|[\u0300-\u036f])"
_APOSTROPHES = "'\u2019\u2018"  # straight, and the curly ones word processors put in
_WORD = re.compile(r"[^\W_]+")
_WORD_WITH_ACCENTS = re.compile(r"[^\W_](?:[^\W_]|[\u0300-\u036f])*")
_TERM_ENDS = re.compile(r"^[\W_]+|[\W_]+$")
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Hit:
    """One place in a report's text that may identify someone."""

    kind: HitKind
    start: int
    end: int
    matched: str  # text[start:end]
    term: str | None  # the protected term that matched, for PROTECTED_TERM hits
    # The normalised words either side, captured when found, so a waiver can be tied to this
    # occurrence without keeping offsets that move whenever anything earlier is edited.
    surroundings: str

    def fingerprint(self) -> str:
        """A stable id for this hit, so a waiver outlives edits elsewhere but not edits to the hit.

        Identical words in identical surroundings share a fingerprint: the waiver is a judgement
        about those words in that place, and it holds wherever they recur.
        """
        parts = (str(self.kind), _normalise(self.matched), self.surroundings)
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]

    def context(self, text: str, width: int = 40) -> tuple[str, str, str]:
        """Up to ``width`` characters before and after the hit, cut at whole words, for showing on a page."""
        if text[self.start : self.end] != self.matched:
            raise ValueError("the text is not the one this hit was found in")
        return (
            _squash(_text_before(text, self.start, width)),
            _squash(self.matched),
            _squash(_text_after(text, self.end, width)),
        )


def find_hits(text: str, protected_terms: Iterable[str]) -> list[Hit]:
    """Every protected term and personal-data pattern in ``text``, in the order they appear."""
    detectors = [_ProtectedTermDetector.for_terms(_distinct_terms(protected_terms)), *_PATTERN_DETECTORS]
    hits = [hit for detector in detectors for hit in detector.find(text)]
    return sorted(hits, key=lambda hit: (hit.start, hit.end, _KIND_ORDER[hit.kind]))


# --- Finding ------------------------------------------------------------------------------------


def _hit(kind: HitKind, text: str, match: re.Match[str], term: str | None = None) -> Hit:
    return Hit(
        kind=kind,
        start=match.start(),
        end=match.end(),
        matched=match.group(),
        term=term,
        surroundings=_surroundings(text, match.start(), match.end()),
    )


@dataclass(frozen=True)
class _PatternDetector:
    kind: HitKind
    pattern: re.Pattern[str]
    accept: Callable[[re.Match[str]], bool] = lambda match: True

    def find(self, text: str) -> Iterator[Hit]:
        for match in self.pattern.finditer(text):
            if self.accept(match):
                yield _hit(self.kind, text, match)


@dataclass(frozen=True)
class _ProtectedTermDetector:
    """All of a review's terms as one pattern, tried only where a word that begins some term starts.

    Trying fifty alternatives at every position of a long report is slow; looking each word up in a
    set first keeps the cost to one pass over the words, however many terms there are.
    """

    terms: tuple[str, ...]  # as entered; group n of the pattern is terms[n - 1]
    first_words: frozenset[str]
    pattern: re.Pattern[str]

    @classmethod
    @lru_cache(maxsize=64)
    def for_terms(cls, terms: tuple[str, ...]) -> _ProtectedTermDetector:
        alternatives = "|".join(f"({_term_pattern(term)})" for term in terms)
        possessive = rf"(?:[{_APOSTROPHES}]s{_NOT_BEFORE_WORD}|(?<=s)[{_APOSTROPHES}])?"
        return cls(
            terms=terms,
            first_words=frozenset(_fold(_WORD_WITH_ACCENTS.match(_clean_term(term)).group()) for term in terms),
            pattern=re.compile(f"(?:{alternatives}){_NOT_BEFORE_WORD}{possessive}", re.IGNORECASE),
        )

    def find(self, text: str) -> Iterator[Hit]:
        if not self.terms:
            return
        searched_to = 0
        for word in _WORD_WITH_ACCENTS.finditer(text):
            if word.start() < searched_to or _fold(word.group()) not in self.first_words:
                continue
            match = self.pattern.match(text, word.start())
            if match:
                searched_to = match.end()
                yield _hit(HitKind.PROTECTED_TERM, text, match, term=self.terms[match.lastindex - 1])


def _distinct_terms(protected_terms: Iterable[str]) -> tuple[str, ...]:
    """The terms worth searching for, each once, longest first so "Ann Smith" wins over "Ann"."""
    distinct: dict[str, str] = {}
    for term in protected_terms:
        cleaned = _clean_term(term)
        if cleaned:
            distinct.setdefault(_normalise(cleaned), term.strip())
    return tuple(sorted(distinct.values(), key=lambda term: (-len(_clean_term(term)), _normalise(term))))


def _clean_term(term: str) -> str:
    """The term without stray punctuation at its ends ("Ann," is searched for as "Ann"); "" if nothing is left."""
    return _TERM_ENDS.sub("", unicodedata.normalize("NFC", term))


def _term_pattern(term: str) -> str:
    words = _clean_term(term).split()
    return r"\s+".join("".join(_character_pattern(character) for character in word) for word in words)


def _character_pattern(character: str) -> str:
    if character in _APOSTROPHES:
        return f"[{_APOSTROPHES}]"
    decomposed = unicodedata.normalize("NFD", character)
    if decomposed == character:
        return re.escape(character)
    return f"(?:{re.escape(character)}|{re.escape(decomposed)})"


# --- Postcodes ----------------------------------------------------------------------------------

_POSTCODE = re.compile(
    rf"""{_NOT_AFTER_WORD}
    (?:
        GIR[ \u00a0]?0AA
      | (?: [A-PR-UWYZ][0-9][0-9]?                # A9, A99
          | [A-PR-UWYZ][A-HK-Y][0-9][0-9]?        # AA9, AA99
          | [A-PR-UWYZ][0-9][A-HJKPSTUW]          # A9A
          | [A-PR-UWYZ][A-HK-Y][0-9][ABEHMNPRVWXY] # AA9A
        )
        [ \u00a0]?[0-9][ABD-HJLNP-UW-Z]{{2}}       # inward code: never C, I, K, M, O or V
    )
    {_NOT_BEFORE_WORD}""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_postcode(match: re.Match[str]) -> bool:
    return match.group().isupper() or match.group().islower()


# --- Phone numbers ------------------------------------------------------------------------------

_PHONE_SEPARATOR = r"[ \u00a0-]"
_PHONE = re.compile(
    rf"""(?<![\w+/-])
    (?:
        (?:\+|00)44{_PHONE_SEPARATOR}?(?:\(0\){_PHONE_SEPARATOR}?)?[1235789](?:{_PHONE_SEPARATOR}?\d){{8,9}}
      | \(0[1235789]\d{{1,3}}\){_PHONE_SEPARATOR}?\d(?:{_PHONE_SEPARATOR}?\d){{5,7}}
      | 0[1235789](?:{_PHONE_SEPARATOR}?\d){{8,9}}
    )
    (?<!{_PHONE_SEPARATOR}\d)(?!\d)   # no number ends in a one-digit group
    """,
    re.VERBOSE,
)


def _is_phone_number(match: re.Match[str]) -> bool:
    digits = re.sub(r"\D", "", match.group())
    if match.group().startswith(("+", "00")):
        digits = digits.removeprefix("00").removeprefix("44")
        national = digits if digits.startswith("0") else "0" + digits
    else:
        national = digits
    return len(national) in (10, 11)


# --- Email addresses ----------------------------------------------------------------------------

# Lengths are bounded as the standards bound them (64 for the part before "@", 63 for each part of
# the domain), which also keeps a long run of dots and letters from costing time out of proportion.
_EMAIL = re.compile(
    r"""(?<!\w)\w[\w.!#$%&'*+/=?^`{|}~-]{0,63}
    @(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.){1,8}[^\W\d_]{2,63}(?![^\W_])""",
    re.VERBOSE,
)


# --- NHS numbers --------------------------------------------------------------------------------

_NHS_NUMBER = re.compile(r"(?<![\w+-])\d{3}([ \u00a0-]?)\d{3}\1\d{4}(?![\w-])")


def _has_nhs_check_digit(match: re.Match[str]) -> bool:
    """The NHS modulus 11 check: weights 10 down to 2 on the first nine digits; a remainder of 10 is never issued."""
    digits = [int(character) for character in match.group() if character.isdigit()]
    total = sum(digit * weight for digit, weight in zip(digits[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == digits[9]


# --- National Insurance numbers -----------------------------------------------------------------

_NI_NUMBER = re.compile(
    rf"""{_NOT_AFTER_WORD}
    (?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]   # allocated prefixes only
    [ \u00a0]?\d{{2}}[ \u00a0]?\d{{2}}[ \u00a0]?\d{{2}}[ \u00a0]?[A-D]
    {_NOT_BEFORE_WORD}""",
    re.IGNORECASE | re.VERBOSE,
)


# --- Dates --------------------------------------------------------------------------------------

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sept", "sep"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_WEEKDAY = (
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)\.?"
)
_ORDINAL = r"(?:st|nd|rd|th)?"

_DATE = re.compile(
    rf"""{_NOT_AFTER_WORD}(?<!\d\.)
    (?:
        (?P<day>\d{{1,2}})(?P<sep>[/.-])(?P<month>\d{{1,2}})(?P=sep)(?P<year>\d{{4}}|\d{{2}})
      | (?P<iso_year>\d{{4}})(?P<iso_sep>[/.-])(?P<iso_month>\d{{1,2}})(?P=iso_sep)(?P<iso_day>\d{{1,2}})
      | (?:(?:{_WEEKDAY}),?\s+(?:the\s+)?)?
        (?:
            (?P<written_day>\d{{1,2}}){_ORDINAL}(?:\s+of)?\s+(?P<written_month>{_MONTH})\.?,?\s+(?P<written_year>\d{{4}})
          | (?P<us_month>{_MONTH})\.?\s+(?:the\s+)?(?P<us_day>\d{{1,2}}){_ORDINAL},?\s+(?P<us_year>\d{{4}})
        )
    )
    {_NOT_BEFORE_WORD}(?!\.\d)""",
    re.IGNORECASE | re.VERBOSE,
)


def _is_full_date(match: re.Match[str]) -> bool:
    found = match.groupdict()
    if found["day"]:
        if found["sep"] == "." and len(found["year"]) == 2 and min(len(found["day"]), len(found["month"])) < 2:
            return False
        return _exists(found["day"], found["month"], found["year"])
    if found["iso_year"]:
        return _exists(found["iso_day"], found["iso_month"], found["iso_year"])
    if found["written_day"]:
        return _exists(found["written_day"], _MONTHS[found["written_month"].casefold()], found["written_year"])
    return _exists(found["us_day"], _MONTHS[found["us_month"].casefold()], found["us_year"])


def _exists(day: str, month: str | int, year: str) -> bool:
    """Whether the day is in the calendar; a two-digit year may be in either the 1900s or the 2000s."""
    years = [int(year)] if len(year) == 4 else [1900 + int(year), 2000 + int(year)]
    for full_year in years:
        try:
            date(full_year, int(month), int(day))
        except ValueError:
            continue
        return True
    return False


_PATTERN_DETECTORS = (
    _PatternDetector(HitKind.POSTCODE, _POSTCODE, _is_postcode),
    _PatternDetector(HitKind.PHONE, _PHONE, _is_phone_number),
    _PatternDetector(HitKind.EMAIL, _EMAIL),
    _PatternDetector(HitKind.NHS_NUMBER, _NHS_NUMBER, _has_nhs_check_digit),
    _PatternDetector(HitKind.NI_NUMBER, _NI_NUMBER),
    _PatternDetector(HitKind.DATE, _DATE, _is_full_date),
)


# --- Showing and fingerprinting -----------------------------------------------------------------


def _normalise(text: str) -> str:
    """Text as a reader compares it: case, apostrophe style, accent encoding and spacing ignored."""
    text = _fold(text)
    for apostrophe in _APOSTROPHES[1:]:
        text = text.replace(apostrophe, "'")
    return " ".join(text.split())


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


def _surroundings(text: str, start: int, end: int) -> str:
    reach = 30 * WAIVER_WINDOW_WORDS
    before = _WORD.findall(_fold(text[max(0, start - reach) : start]))
    if start > reach and text[start - reach - 1].isalnum() and text[start - reach].isalnum():
        before = before[1:]  # the first word was cut in half
    after = _WORD.findall(_fold(text[end : end + reach]))
    if end + reach < len(text) and text[end + reach - 1].isalnum() and text[end + reach].isalnum():
        after = after[:-1]
    return " ".join([*before[-WAIVER_WINDOW_WORDS:], "|", *after[:WAIVER_WINDOW_WORDS]])


def _text_before(text: str, start: int, width: int) -> str:
    cut = start - width
    if cut <= 0:
        return text[:start]
    shown = text[cut:start]
    if not text[cut - 1].isspace() and not shown[0].isspace():
        first_space = _WHITESPACE.search(shown)
        shown = shown[first_space.end() :] if first_space else shown
    return ELLIPSIS + shown.lstrip()


def _text_after(text: str, end: int, width: int) -> str:
    cut = end + width
    if cut >= len(text):
        return text[end:]
    shown = text[end:cut]
    if not text[cut].isspace() and not shown[-1].isspace():
        spaces = list(_WHITESPACE.finditer(shown))
        shown = shown[: spaces[-1].start()] if spaces else shown
    return shown.rstrip() + ELLIPSIS


def _squash(text: str) -> str:
    return _WHITESPACE.sub(" ", text)
