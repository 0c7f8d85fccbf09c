"""What a family member reads before they choose: the review, what we hold, who sees it, their choices.

The words are data, not template text, so a test can check their reading age directly and the consent
ledger can name the version a person had read when they chose. Change ``EXPLANATION_VERSION`` whenever
the meaning of the words changes: choices made after reading older words stay linked to those words.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPLANATION_VERSION = "2026-11"


@dataclass(frozen=True)
class Section:
    heading: str
    paragraphs: tuple[str, ...]
    bullets: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "\n".join((self.heading, *self.paragraphs, *(f"{bullet}." for bullet in self.bullets)))


EXPLANATION: tuple[Section, ...] = (
    Section(
        "What a review is",
        (
            "When a child dies or is badly hurt, the people who look after children in this area must look back"
            " at what happened.",
            "This is called a review. It is about learning, not blame.",
            "We want to find out what went well and what could have been done better. Then we can help keep"
            " other children safe.",
        ),
    ),
    Section(
        "Why we would like to hear from you",
        (
            "You knew your child and your family best. What you tell us can help us see things we might miss.",
            "You do not have to take part. It is up to you.",
        ),
    ),
    Section(
        "What we keep about you",
        ("On this site we keep:",),
        (
            "your name and how to get in touch with you",
            "how you are linked to the child",
            "any help you need to take part",
            "the choices you make on the next page",
            "anything you choose to tell us",
        ),
    ),
    Section(
        "Who can see it",
        (
            "The person who writes the review can see it. We call them the independent author.",
            "The small team that runs the review can see it too.",
            "Other families can never see it.",
            "Other services, like schools, doctors or the police, do not see your words. They only see them"
            " if you say we can use your words without your name.",
        ),
    ),
    Section(
        "How long we keep it",
        (
            "We keep it safe while the review goes on. When the review ends, the law says we must keep it for"
            " a set time. Then we delete it.",
            "You can ask the review team how long that is.",
        ),
    ),
    Section(
        "Your choices",
        (
            "Taking part is your choice. You can say yes to some things and no to others.",
            "You can change your mind at any time. Just come back to this page. Or you can stop all contact"
            " with one button, from any page.",
            "If you say no, that is fine. It will not change the help you get from anyone.",
        ),
    ),
)


def explanation_text() -> str:
    """Every word of the explanation, as one plain text (for checking how easy it is to read)."""
    return "\n".join(section.text for section in EXPLANATION)
