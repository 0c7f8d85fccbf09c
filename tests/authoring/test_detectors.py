"""The anonymisation check finds the family's names and personal data a published report must not contain."""

from __future__ import annotations

import string
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.authoring.detectors import Hit, HitKind, find_hits

CORPUS = tomllib.loads(Path(__file__).with_name("anonymisation_corpus.toml").read_text(encoding="utf-8"))


def corpus_examples(which: str) -> list:
    return [
        pytest.param(HitKind(section), example, id=f"{section}-{number}")
        for section, examples in CORPUS.items()
        for number, example in enumerate(examples[which], start=1)
    ]


def found(kind: HitKind, example: dict) -> list[str]:
    return [hit.matched for hit in find_hits(example["text"], example.get("terms", [])) if hit.kind is kind]


def test_the_corpus_has_enough_examples_of_every_kind():
    assert set(CORPUS) == {str(kind) for kind in HitKind}
    for section, examples in CORPUS.items():
        assert len(examples["positives"]) >= 15, f"{section} has fewer than 15 positive examples"
        assert len(examples["negatives"]) >= 10, f"{section} has fewer than 10 negative examples"


@pytest.mark.parametrize(("kind", "example"), corpus_examples("positives"))
def test_every_positive_example_is_found(kind, example):
    text, expect = example["text"], example["expect"]
    assert expect in text, f"corpus mistake: {expect!r} is not in {text!r}"
    hits = found(kind, example)
    assert expect in hits, f"{kind.label} {expect!r} was missed in {text!r} (found {hits})"


@pytest.mark.parametrize(("kind", "example"), corpus_examples("negatives"))
def test_no_negative_example_is_reported(kind, example):
    hits = found(kind, example)
    assert not hits, f"{kind.label} wrongly found in {example['text']!r}: {hits} ({example['why']})"


def test_every_kind_has_a_label_for_people():
    assert [kind.label for kind in HitKind] == [
        "Protected term",
        "Postcode",
        "Phone number",
        "Email address",
        "NHS number",
        "National Insurance number",
        "Date",
    ]


# --- What a reviewer sees in the list of hits ------------------------------------------------------


def test_hits_come_in_reading_order_and_a_term_entered_twice_is_reported_once():
    text = (
        "Ann (ann@example.org, 07700 900123) was born on 12 March 2019 in SW1A 1AA. "
        "Ann's NHS number is 943 476 5919 and her mother's NI number is AB 12 34 56 C."
    )
    hits = find_hits(text, ["Ann", "ann", " ANN "])
    assert [(hit.kind, hit.matched) for hit in hits] == [
        (HitKind.PROTECTED_TERM, "Ann"),
        (HitKind.PROTECTED_TERM, "ann"),
        (HitKind.EMAIL, "ann@example.org"),
        (HitKind.PHONE, "07700 900123"),
        (HitKind.DATE, "12 March 2019"),
        (HitKind.POSTCODE, "SW1A 1AA"),
        (HitKind.PROTECTED_TERM, "Ann's"),
        (HitKind.NHS_NUMBER, "943 476 5919"),
        (HitKind.NI_NUMBER, "AB 12 34 56 C"),
    ]
    assert all(hit.term == "Ann" for hit in hits if hit.kind is HitKind.PROTECTED_TERM)
    assert all(hit.term is None for hit in hits if hit.kind is not HitKind.PROTECTED_TERM)


def test_a_date_of_birth_entered_as_a_term_is_reported_as_both():
    text = "She was born on 3 July 2015 at home."
    hits = find_hits(text, ["3 July 2015"])
    assert [(hit.kind, hit.start, hit.end) for hit in hits] == [
        (HitKind.PROTECTED_TERM, 16, 27),
        (HitKind.DATE, 16, 27),
    ]


def test_the_longer_of_two_overlapping_terms_is_the_one_reported():
    text = "Ann Smith, her niece Ann and Mr Smith attended."
    hits = find_hits(text, ["Ann", "Smith", "Ann Smith"])
    assert [(hit.matched, hit.term) for hit in hits] == [("Ann Smith", "Ann Smith"), ("Ann", "Ann"), ("Smith", "Smith")]


def test_offsets_point_at_the_hit_in_the_text_given():
    text = "Summary\r\n\r\nThe school (St. Mary\u2019s) called 0161 496 0000 about Zoe\u0308."
    hits = find_hits(text, ["St. Mary's", "Zoë"])
    assert [text[hit.start : hit.end] for hit in hits] == ["St. Mary\u2019s", "0161 496 0000", "Zoe\u0308"]
    assert [hit.matched for hit in hits] == [text[hit.start : hit.end] for hit in hits]


# --- Showing a hit in context ---------------------------------------------------------------------

NOTE = "The health visitor recorded that Ann's mother said she had not been told about the referral at all."


def hit_in(text: str, matched: str, terms: tuple[str, ...] = ("Ann",)) -> Hit:
    return next(hit for hit in find_hits(text, terms) if hit.matched == matched)


def test_context_is_cut_at_whole_words_with_an_ellipsis_where_text_is_left_out():
    assert hit_in(NOTE, "Ann's").context(NOTE, width=20) == ("…recorded that ", "Ann's", " mother said she had…")


def test_context_near_the_ends_of_the_text_is_shown_in_full():
    text = "Ann was seen."
    assert hit_in(text, "Ann").context(text) == ("", "Ann", " was seen.")


def test_context_puts_line_breaks_and_runs_of_spaces_on_one_line():
    text = "Minutes\n\nPresent:   Ann's\ngrandmother and the\tsocial worker."
    assert hit_in(text, "Ann's").context(text) == ("Minutes Present: ", "Ann's", " grandmother and the social worker.")


def test_context_inside_one_long_word_is_cut_where_the_width_ends():
    text = "Photos were posted at https://example.org/albums/" + "x" * 30 + "/Ann for anyone to see."
    assert hit_in(text, "Ann").context(text, width=10) == ("…xxxxxxxxx/", "Ann", " for…")


def test_context_refuses_a_text_the_hit_was_not_found_in():
    hit = hit_in(NOTE, "Ann's")
    with pytest.raises(ValueError, match="not the one this hit was found in"):
        hit.context(NOTE.replace("Ann's", "the child's"))


# --- Fingerprints: what a waiver is tied to ------------------------------------------------------

REPORT = (
    "Summary\n\n"
    "The review looked at the help given to the family over two years.\n\n"
    "Ann's mother said she had not been told about the referral. The school nurse visited twice.\n\n"
    "Learning\n\n"
    "Agencies did not share what they knew."
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("Summary\n\n", "Foreword by the independent chair.\n\nSummary\n\n"),
        ("the help given", "the support offered"),
        ("The school nurse visited twice.", "The school nurse visited three times."),
        ("did not share", "rarely shared"),
    ],
    ids=["text added at the start", "words changed earlier", "words changed later", "words changed at the end"],
)
def test_a_fingerprint_survives_edits_elsewhere_in_the_report(before, after):
    edited = REPORT.replace(before, after)
    assert edited != REPORT
    assert hit_in(edited, "Ann's").fingerprint() == hit_in(REPORT, "Ann's").fingerprint()


@pytest.mark.parametrize(
    ("before", "after", "matched"),
    [
        ("Ann's mother", "Ann mother", "Ann"),
        ("Ann's mother", "Ann Smith's mother", "Ann Smith's"),
        ("Ann's mother said", "Ann's aunt said", "Ann's"),
        ("over two years", "over three years", "Ann's"),
    ],
    ids=["the hit itself", "the hit made longer", "the next word", "the word before"],
)
def test_a_fingerprint_changes_when_the_hit_or_the_words_beside_it_change(before, after, matched):
    edited = REPORT.replace(before, after)
    terms = ("Ann", "Ann Smith")
    assert hit_in(edited, matched, terms).fingerprint() != hit_in(REPORT, "Ann's", terms).fingerprint()


def test_a_fingerprint_ignores_how_the_same_words_are_typed():
    retyped = REPORT.replace("Ann's mother said", "ANN\u2019s  mother\nsaid")
    assert hit_in(retyped, "ANN\u2019s").fingerprint() == hit_in(REPORT, "Ann's").fingerprint()


def test_a_term_and_a_pattern_over_the_same_words_have_different_fingerprints():
    text = "She was born on 3 July 2015 at home."
    term_hit, date_hit = find_hits(text, ["3 July 2015"])
    assert term_hit.fingerprint() != date_hit.fingerprint()


# --- Properties over generated text --------------------------------------------------------------

simple_names = st.text(alphabet=string.ascii_letters, min_size=2, max_size=12)
prose = st.text(alphabet=string.ascii_letters + string.digits + " \n.,;:!?'\"()-", max_size=120)
punctuation = st.text(alphabet=" \n\t.,;:!?\"'()[]-\u2013\u2014\u2018\u2019\u2026", min_size=1, max_size=3)
spellings = st.sampled_from([str.lower, str.upper, str.title, str.swapcase])


@given(
    name=simple_names,
    other_terms=st.lists(simple_names, max_size=6),
    before=prose,
    after=prose,
    left=punctuation,
    right=punctuation,
    spell=spellings,
)
def test_a_protected_term_is_found_wherever_it_is_put_in_prose(name, other_terms, before, after, left, right, spell):
    text = before + left + spell(name) + right + after
    position = len(before + left)
    hits = find_hits(text, [*other_terms, name])
    assert any(
        hit.kind is HitKind.PROTECTED_TERM
        and hit.start == position
        and hit.end >= position + len(name)
        and hit.term.casefold() == name.casefold()
        for hit in hits
    ), f"{name!r} not found at {position} in {text!r}"


@given(text=st.text(), terms=st.lists(st.text(max_size=20), max_size=5))
def test_any_text_can_be_checked_and_every_hit_points_at_its_words(text, terms):
    hits = find_hits(text, terms)
    assert hits == sorted(hits, key=lambda hit: hit.start)
    assert len(set(hits)) == len(hits)
    for hit in hits:
        assert text[hit.start : hit.end] == hit.matched
        assert hit.context(text)[1].split() == hit.matched.split()
