"""Two versions of the report side by side: which sections were added, removed, moved or changed, and how.

Sections are matched by heading first (a section keeps its identity when it moves), then by position
(a section whose heading was reworded stays paired with the one in its place). Within a changed
section the words are compared paragraph by paragraph, so that a long report costs little: unchanged
paragraphs are matched whole and only the paragraphs that differ are compared word by word. Everything
here is plain text; the page escapes it like any other text.
"""

from __future__ import annotations

import bisect
import difflib
import enum
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

# Word-by-word comparison of two blocks costs up to the product of their lengths; beyond this many
# words on either side the block is shown as removed and added whole, and the page says so.
MAX_WORDS_COMPARED = 5_000

_TOKENS = re.compile(r"\n|[^\s]+")
PARAGRAPH_BREAK = "\n"


class SectionChange(enum.StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"

    @property
    def label(self) -> str:
        return {
            SectionChange.UNCHANGED: "Unchanged",
            SectionChange.CHANGED: "Changed",
            SectionChange.ADDED: "Added",
            SectionChange.REMOVED: "Removed",
        }[self]


class WordChange(enum.StrEnum):
    SAME = "same"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class SectionText:
    """One section as compared: its heading and its words as plain text."""

    heading: str
    text: str


@dataclass(frozen=True)
class Chunk:
    change: WordChange
    text: str


@dataclass
class SectionComparison:
    change: SectionChange
    heading: str
    old_heading: str | None = None  # set when the heading itself was reworded
    old_position: int | None = None  # 1-based, as a reader counts
    new_position: int | None = None
    moved: bool = False
    paragraphs: list[list[Chunk]] = field(default_factory=list)
    words_added: int = 0
    words_removed: int = 0
    too_long: bool = False  # some of it was too long to compare word by word


@dataclass
class Comparison:
    sections: list[SectionComparison]

    def count(self, change: SectionChange) -> int:
        return sum(1 for section in self.sections if section.change == change)

    @property
    def moved(self) -> int:
        return sum(1 for section in self.sections if section.moved)

    @property
    def words_added(self) -> int:
        return sum(section.words_added for section in self.sections)

    @property
    def words_removed(self) -> int:
        return sum(section.words_removed for section in self.sections)

    @property
    def identical(self) -> bool:
        return all(section.change == SectionChange.UNCHANGED and not section.moved for section in self.sections)


def compare(old: Sequence[SectionText], new: Sequence[SectionText]) -> Comparison:
    """Section-by-section differences from ``old`` to ``new``, in the new version's order."""
    pairs = _match_sections(old, new)
    moved = _moved_pairs(pairs)
    matched_old = {old_index for old_index, _ in pairs}
    new_to_old = {new_index: old_index for old_index, new_index in pairs}
    sections: list[SectionComparison] = []
    # Removed sections are shown where they used to be: before the first new section that followed them.
    removed_before: dict[int, list[int]] = defaultdict(list)
    next_new = 0
    for old_index in range(len(old)):
        if old_index in matched_old:
            next_new = _new_index_of(pairs, old_index) + 1
        else:
            removed_before[next_new].append(old_index)
    for new_index in range(len(new) + 1):
        sections.extend(_removed(old[i], i) for i in removed_before.get(new_index, []))
        if new_index == len(new):
            break
        if new_index in new_to_old:
            old_index = new_to_old[new_index]
            sections.append(_paired(old[old_index], new[new_index], old_index, new_index, new_index in moved))
        else:
            sections.append(_added(new[new_index], new_index))
    return Comparison(sections)


def _new_index_of(pairs: list[tuple[int, int]], old_index: int) -> int:
    return next(new_index for candidate, new_index in pairs if candidate == old_index)


def _heading_key(heading: str) -> str:
    return " ".join(heading.split()).casefold()


def _match_sections(old: Sequence[SectionText], new: Sequence[SectionText]) -> list[tuple[int, int]]:
    """(old index, new index) pairs: same heading first, in order; then what is left, by position."""
    waiting: dict[str, list[int]] = defaultdict(list)
    for index, section in enumerate(old):
        waiting[_heading_key(section.heading)].append(index)
    pairs: list[tuple[int, int]] = []
    unmatched_new: list[int] = []
    for index, section in enumerate(new):
        candidates = waiting.get(_heading_key(section.heading))
        if candidates:
            pairs.append((candidates.pop(0), index))
        else:
            unmatched_new.append(index)
    unmatched_old = {index for indices in waiting.values() for index in indices}
    for index in unmatched_new:
        if index in unmatched_old:
            pairs.append((index, index))
            unmatched_old.discard(index)
    return sorted(pairs, key=lambda pair: pair[1])


def _moved_pairs(pairs: list[tuple[int, int]]) -> set[int]:
    """New indices of the sections that moved: those outside the longest run kept in the same order."""
    old_order = [old_index for old_index, _ in pairs]  # pairs are in new order
    tails: list[int] = []  # tails[k]: smallest old index ending an increasing run of length k + 1
    tail_at: list[int] = []  # position in old_order of that tail
    previous = [-1] * len(old_order)
    for position, value in enumerate(old_order):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[k] = value
            tail_at[k] = position
        previous[position] = tail_at[k - 1] if k else -1
    kept: set[int] = set()
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        kept.add(position)
        position = previous[position]
    return {pairs[position][1] for position in range(len(pairs)) if position not in kept}


def _added(section: SectionText, index: int) -> SectionComparison:
    words = _words(section.text)
    return SectionComparison(
        SectionChange.ADDED,
        section.heading,
        new_position=index + 1,
        paragraphs=_whole(section.text, WordChange.ADDED),
        words_added=len(words),
    )


def _removed(section: SectionText, index: int) -> SectionComparison:
    words = _words(section.text)
    return SectionComparison(
        SectionChange.REMOVED,
        section.heading,
        old_position=index + 1,
        paragraphs=_whole(section.text, WordChange.REMOVED),
        words_removed=len(words),
    )


def _paired(old: SectionText, new: SectionText, old_index: int, new_index: int, moved: bool) -> SectionComparison:
    reworded = _heading_key(old.heading) != _heading_key(new.heading)
    result = SectionComparison(
        SectionChange.UNCHANGED,
        new.heading,
        old_heading=old.heading if reworded else None,
        old_position=old_index + 1,
        new_position=new_index + 1,
        moved=moved,
    )
    old_paragraphs, new_paragraphs = _paragraphs(old.text), _paragraphs(new.text)
    if old_paragraphs == new_paragraphs:
        result.paragraphs = [[Chunk(WordChange.SAME, paragraph)] for paragraph in new_paragraphs]
        if reworded:
            result.change = SectionChange.CHANGED
        return result
    result.change = SectionChange.CHANGED
    matcher = difflib.SequenceMatcher(None, old_paragraphs, new_paragraphs, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            result.paragraphs.extend([[Chunk(WordChange.SAME, p)] for p in new_paragraphs[new_start:new_end]])
        else:
            _compare_block(result, old_paragraphs[old_start:old_end], new_paragraphs[new_start:new_end])
    return result


def _compare_block(result: SectionComparison, old: list[str], new: list[str]) -> None:
    """Paragraphs that differ, compared word by word (or whole, when too long to compare)."""
    old_words = _words(PARAGRAPH_BREAK.join(old))
    new_words = _words(PARAGRAPH_BREAK.join(new))
    if not old or not new or len(old_words) > MAX_WORDS_COMPARED or len(new_words) > MAX_WORDS_COMPARED:
        result.too_long = result.too_long or bool(old and new)
        result.words_removed += _count_words(old_words)
        result.words_added += _count_words(new_words)
        result.paragraphs.extend([[Chunk(WordChange.REMOVED, paragraph)] for paragraph in old])
        result.paragraphs.extend([[Chunk(WordChange.ADDED, paragraph)] for paragraph in new])
        return
    chunks: list[Chunk] = []
    matcher = difflib.SequenceMatcher(None, old_words, new_words, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            chunks.append(Chunk(WordChange.SAME, " ".join(new_words[new_start:new_end])))
            continue
        # A paragraph break that went away joins two paragraphs: nothing to show as removed words.
        removed = [word for word in old_words[old_start:old_end] if word != PARAGRAPH_BREAK]
        if removed:
            result.words_removed += len(removed)
            chunks.append(Chunk(WordChange.REMOVED, " ".join(removed)))
        added = new_words[new_start:new_end]
        if added:
            result.words_added += _count_words(added)
            chunks.append(Chunk(WordChange.ADDED, " ".join(added)))
    result.paragraphs.extend(_split_paragraphs(chunks))


def _count_words(tokens: list[str]) -> int:
    return sum(1 for token in tokens if token != PARAGRAPH_BREAK)


def _split_paragraphs(chunks: list[Chunk]) -> list[list[Chunk]]:
    """Chunks laid out as the new version's paragraphs: a break kept or added starts a new one."""
    paragraphs: list[list[Chunk]] = [[]]
    for chunk in chunks:
        for number, piece in enumerate(chunk.text.split(PARAGRAPH_BREAK)):
            if number:
                paragraphs.append([])
            if piece.strip():
                paragraphs[-1].append(Chunk(chunk.change, " ".join(piece.split())))
    return [paragraph for paragraph in paragraphs if paragraph]


def _words(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _whole(text: str, change: WordChange) -> list[list[Chunk]]:
    return [[Chunk(change, paragraph)] for paragraph in _paragraphs(text)]
