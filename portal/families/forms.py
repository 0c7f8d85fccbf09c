"""Forms on family members' own pages: their choices, and the one button that stops all contact."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput
from wtforms import RadioField, SelectMultipleField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Optional

from portal.consent.models import ConsentChannel, ConsentScope
from portal.families.family_pages import Choices

YES = "yes"
NO = "no"
YES_NO = [SelectChoice(YES, "Yes"), SelectChoice(NO, "No")]

CHANNEL_LABELS = {
    ConsentChannel.EMAIL: "Email",
    ConsentChannel.SMS: "Text message",
    ConsentChannel.LETTER: "Letter",
}

# Said kindly: the person has done nothing wrong, we are missing a detail.
NO_WAY_TO_REACH = {
    ConsentChannel.EMAIL: "We do not have an email address for you. Choose another way."
    " Or ask the review team to add it.",
    ConsentChannel.SMS: "We do not have a mobile number for you. Choose another way. Or ask the review team to add it.",
    ConsentChannel.LETTER: "We do not have an address for letters to you. Choose another way."
    " Or ask the review team to add one.",
}


def _yes_no(label: str, *, required: str) -> RadioField:
    # A made-up answer gets the same message as none: the person only ever sees Yes and No.
    return RadioField(
        label,
        widget=GovRadioInput(),
        choices=YES_NO,
        validators=[InputRequired(required), AnyOf([YES, NO], message=required)],
        validate_choice=False,
    )


def _answer(value: str | None) -> bool | None:
    return {YES: True, NO: False}.get(value or "")


def _value(answer: bool | None) -> str | None:
    return None if answer is None else (YES if answer else NO)


class ChoicesForm(FlaskForm):
    updates = _yes_no(
        "Can we send you updates about the review?", required="Select yes if we can send you updates about the review"
    )
    update_channels = SelectMultipleField(
        "How should we send them?",
        widget=GovCheckboxesInput(),
        choices=[SelectChoice(channel.value, label) for channel, label in CHANNEL_LABELS.items()],
        description="Choose all the ways that are good for you.",
        validators=[Optional()],
        validate_choice=False,  # unknown values are dropped by chosen_channels()
    )
    author_contact = _yes_no(
        "Can the independent author contact you?", required="Select yes if the independent author can contact you"
    )
    contribute = _yes_no(
        "Do you want to tell the review about your child and your family in your own words?",
        required="Select yes if you want to tell the review about your family in your own words",
    )
    see_draft = _yes_no(
        "Do you want to read the report before it is published?",
        required="Select yes if you want to read the report before it is published",
    )
    quote_anonymously = _yes_no(
        "Can the report use your words without your name?",
        required="Select yes if the report can use your words without your name",
    )
    submit = SubmitField("Save my choices", widget=GovSubmitInput())

    SINGLE_FIELDS = {
        ConsentScope.AUTHOR_CONTACT: "author_contact",
        ConsentScope.CONTRIBUTE: "contribute",
        ConsentScope.SEE_DRAFT: "see_draft",
        ConsentScope.QUOTE_ANONYMOUSLY: "quote_anonymously",
    }

    def fill_from(self, choices: Choices) -> None:
        """Show what the person has chosen before (on first opening the page, not after a post)."""
        self.updates.data = _value(choices.updates)
        self.update_channels.data = [channel.value for channel in ConsentChannel if channel in choices.channels]
        for scope, name in self.SINGLE_FIELDS.items():
            getattr(self, name).data = _value(choices.single.get(scope))

    def check_channels(self, reachable: set[ConsentChannel]) -> bool:
        """If they want updates: at least one way, and only ways we hold the details for."""
        if self.updates.data != YES:
            return True
        chosen = self.chosen_channels()
        if not chosen:
            self.update_channels.errors = ["Choose at least one way for us to send you updates"]
            return False
        missing = [channel for channel in ConsentChannel if channel in chosen and channel not in reachable]
        if missing:
            self.update_channels.errors = [NO_WAY_TO_REACH[missing[0]]]
            return False
        return True

    def chosen_channels(self) -> frozenset[ConsentChannel]:
        known = {channel.value for channel in ConsentChannel}
        return frozenset(ConsentChannel(value) for value in (self.update_channels.data or []) if value in known)

    def choices(self) -> Choices:
        return Choices(
            updates=_answer(self.updates.data),
            channels=self.chosen_channels() if self.updates.data == YES else frozenset(),
            single={scope: _answer(getattr(self, name).data) for scope, name in self.SINGLE_FIELDS.items()},
        )


class StopContactForm(FlaskForm):
    submit = SubmitField("Stop all contact", widget=GovSubmitInput())
