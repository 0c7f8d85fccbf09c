"""The words a family member reads are easy to read and say what they must."""

from __future__ import annotations

import pytest

from portal.consent.models import ConsentRecord
from portal.families import family_pages
from portal.families.explanation import EXPLANATION, EXPLANATION_VERSION, explanation_text
from portal.families.forms import NO_WAY_TO_REACH
from portal.families.readability import TARGET_READING_AGE, readability


def test_the_whole_explanation_has_a_reading_age_of_about_nine():
    assert TARGET_READING_AGE == 9
    assert readability(explanation_text()).reading_age <= 9


@pytest.mark.parametrize("section", EXPLANATION, ids=lambda section: section.heading)
def test_each_part_of_the_explanation_is_easy_to_read_on_its_own(section):
    measured = readability(section.text)
    assert not measured.too_hard, f"{section.heading!r} has a reading age of {measured.reading_age}"


def test_the_explanation_says_what_a_family_needs_to_know_before_choosing():
    text = explanation_text()
    for needed in (
        "It is about learning, not blame",  # why reviews happen
        "On this site we keep",  # what the portal holds
        "The person who writes the review can see it",  # who sees it
        "The small team that runs the review can see it too",
        "Other families can never see it",
        "only see them if you say we can use your words without your name",  # agencies, unless quoted
        "we must keep it for a set time. Then we delete it",  # how long it is kept
        "Taking part is your choice",
        "You can change your mind at any time",
    ):
        assert needed in text, f"the explanation does not say: {needed}"


def test_the_explanation_uses_no_jargon():
    text = explanation_text()
    for jargon in ("CSPR", "LSCP", "safeguarding partners", "Rapid Review", "consent ledger", "agencies"):
        assert jargon not in text


def test_the_version_fits_the_ledger():
    assert EXPLANATION_VERSION.strip()
    assert len(EXPLANATION_VERSION) <= ConsentRecord.__table__.c.text_version.type.length


# The other family-facing words kept in code.
FAMILY_SENTENCES = [
    *family_pages.STAGE_SENTENCES.values(),
    *family_pages.SAID_YES.values(),
    *family_pages.SAID_NO.values(),
    *NO_WAY_TO_REACH.values(),
]


@pytest.mark.parametrize("sentence", FAMILY_SENTENCES)
def test_every_sentence_a_family_reads_is_easy_to_read(sentence):
    assert not readability(sentence).too_hard, f"{sentence!r}: reading age {readability(sentence).reading_age}"


def test_every_stage_has_words_a_family_understands():
    from portal.reviews.models import Stage

    assert set(family_pages.STAGE_SENTENCES) == set(Stage)
    assert not any("CSPR" in sentence or "Rapid" in sentence for sentence in family_pages.STAGE_SENTENCES.values())
