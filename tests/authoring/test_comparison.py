"""The comparison between two versions: sections added, removed, moved and changed, and the words within."""

from __future__ import annotations

from portal.authoring.comparison import (
    MAX_WORDS_COMPARED,
    Chunk,
    SectionChange,
    SectionText,
    WordChange,
    compare,
)

S = SectionText


def by_heading(result):
    return {section.heading: section for section in result.sections}


def test_identical_versions_have_nothing_to_show():
    sections = [S("Introduction", "We looked at six months."), S("Findings", "Agencies did not share.")]
    result = compare(sections, list(sections))
    assert result.identical
    assert [section.change for section in result.sections] == [SectionChange.UNCHANGED] * 2


def test_a_new_section_is_added_and_an_old_one_removed_in_place():
    old = [S("Introduction", "a"), S("Practice episodes", "b"), S("Findings", "c")]
    new = [S("Introduction", "a"), S("Findings", "c"), S("Recommendations", "Share records weekly."), S("Extra", "x")]
    result = compare(old, new)
    headings = by_heading(result)
    assert headings["Practice episodes"].change == SectionChange.REMOVED
    assert headings["Recommendations"].change == SectionChange.ADDED
    assert headings["Recommendations"].words_added == 3
    assert headings["Practice episodes"].old_position == 2
    # The removed section is shown where it was: after the introduction, before the findings.
    assert [section.heading for section in result.sections] == [
        "Introduction",
        "Practice episodes",
        "Findings",
        "Recommendations",
        "Extra",
    ]
    assert (result.count(SectionChange.ADDED), result.count(SectionChange.REMOVED)) == (2, 1)


def test_a_section_that_moved_is_matched_by_its_heading_and_marked_moved():
    old = [S("Introduction", "a"), S("Findings", "b"), S("Practice episodes", "c"), S("Recommendations", "d")]
    new = [S("Introduction", "a"), S("Practice episodes", "c"), S("Findings", "b"), S("Recommendations", "d")]
    result = compare(old, new)
    moved = [section.heading for section in result.sections if section.moved]
    assert len(moved) == 1 and moved[0] in {"Findings", "Practice episodes"}
    assert result.moved == 1
    assert all(section.change == SectionChange.UNCHANGED for section in result.sections)
    assert not result.identical


def test_headings_match_whatever_their_case_and_spacing():
    result = compare([S("The child  and family", "x")], [S("the child and family", "x")])
    assert result.sections[0].change == SectionChange.UNCHANGED
    assert result.sections[0].old_heading is None


def test_a_reworded_heading_in_the_same_place_is_the_same_section_changed():
    result = compare([S("Intro", "We met the family.")], [S("Introduction", "We met the family.")])
    (section,) = result.sections
    assert section.change == SectionChange.CHANGED
    assert (section.heading, section.old_heading) == ("Introduction", "Intro")


def test_changed_words_are_marked_added_and_removed():
    old = [S("Findings", "The school did not tell children's social care.")]
    new = [S("Findings", "The nursery did not tell children's social care quickly.")]
    (section,) = compare(old, new).sections
    assert section.change == SectionChange.CHANGED
    assert section.paragraphs == [
        [
            Chunk(WordChange.SAME, "The"),
            Chunk(WordChange.REMOVED, "school"),
            Chunk(WordChange.ADDED, "nursery"),
            Chunk(WordChange.SAME, "did not tell children's social"),
            Chunk(WordChange.REMOVED, "care."),
            Chunk(WordChange.ADDED, "care quickly."),
        ]
    ]
    assert (section.words_added, section.words_removed) == (3, 2)


def test_unchanged_paragraphs_stay_whole_and_only_the_changed_one_is_compared():
    old = [S("Findings", "First paragraph stays.\nSecond one changes here.\nThird stays too.")]
    new = [S("Findings", "First paragraph stays.\nSecond one changed here.\nThird stays too.")]
    (section,) = compare(old, new).sections
    assert section.paragraphs[0] == [Chunk(WordChange.SAME, "First paragraph stays.")]
    assert section.paragraphs[2] == [Chunk(WordChange.SAME, "Third stays too.")]
    assert Chunk(WordChange.ADDED, "changed") in section.paragraphs[1]
    assert Chunk(WordChange.REMOVED, "changes") in section.paragraphs[1]


def test_a_paragraph_added_to_a_section_is_shown_as_added():
    old = [S("Findings", "One.")]
    new = [S("Findings", "One.\nA new paragraph.")]
    (section,) = compare(old, new).sections
    assert section.paragraphs == [[Chunk(WordChange.SAME, "One.")], [Chunk(WordChange.ADDED, "A new paragraph.")]]
    assert section.words_added == 3


def test_markup_in_the_text_is_kept_as_text_for_the_page_to_escape():
    old = [S("Findings", "Nothing here.")]
    new = [S("Findings", "Nothing <script>alert(1)</script> here.")]
    (section,) = compare(old, new).sections
    assert Chunk(WordChange.ADDED, "<script>alert(1)</script>") in section.paragraphs[0]


def test_a_block_too_long_to_compare_word_by_word_is_shown_whole_with_a_note():
    long_old = " ".join(f"word{number}" for number in range(MAX_WORDS_COMPARED + 1))
    long_new = " ".join(f"other{number}" for number in range(MAX_WORDS_COMPARED + 1))
    (section,) = compare([S("Findings", long_old)], [S("Findings", long_new)]).sections
    assert section.too_long
    assert [chunk.change for paragraph in section.paragraphs for chunk in paragraph] == [
        WordChange.REMOVED,
        WordChange.ADDED,
    ]
    assert section.words_added == MAX_WORDS_COMPARED + 1


def test_a_hundred_page_report_with_scattered_changes_is_compared_section_by_section():
    paragraph = "The practitioners met weekly and recorded what they saw in the family home. "
    old = [
        S(f"Section {number}", "\n".join(f"Paragraph {line}. {paragraph * 4}" for line in range(12)))
        for number in range(90)
    ]
    new = list(old)
    new[10] = S("Section 10", old[10].text.replace("weekly", "monthly", 1))
    new.insert(40, S("A new finding", "Something new."))
    result = compare(old, new)
    assert sum(len(section.text) for section in old) > 300_000
    assert result.count(SectionChange.CHANGED) == 1
    assert result.count(SectionChange.ADDED) == 1
    assert (result.words_added, result.words_removed) == (3, 1)
