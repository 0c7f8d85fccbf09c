"""How easy family-facing words are to read, as a reading age.

Families read these words at the worst time of their lives; the partnership aims for a reading age
of about 9. The Flesch-Kincaid grade is a US school year, so the reading age is the grade plus 5.
"""

from __future__ import annotations

from dataclasses import dataclass

import textstat

TARGET_READING_AGE = 9
YOUNGEST_READING_AGE = 5


@dataclass(frozen=True)
class Readability:
    reading_age: int
    target: int = TARGET_READING_AGE

    @property
    def too_hard(self) -> bool:
        return self.reading_age > self.target


def readability(text: str) -> Readability:
    """The reading age of plain text (rounded up: a text is as hard as its hardest part suggests)."""
    if not text or not text.strip():
        return Readability(YOUNGEST_READING_AGE)
    grade = textstat.flesch_kincaid_grade(text)
    return Readability(max(YOUNGEST_READING_AGE, -int(-(grade + 5) // 1)))
