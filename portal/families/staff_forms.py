"""Forms for staff: a family member's details, consent told in a conversation, and an update to send."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import EmailField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice

# DataRequired for text: a box holding only spaces is empty once stripped.
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from portal.families.models import FamilyMember, PreferredChannel
from portal.families.services import CONSENT_QUESTIONS, Choice, FamilyDetails
from portal.forms import strip_whitespace

_SEPARATORS = re.compile(r"[\s\-().]")
# A UK mobile number: 07 and nine more digits, written nationally or with the +44 country code.
_UK_MOBILE = re.compile(r"^(?:\+44|0044|44|0)(7\d{9})$")


def uk_mobile(text: str | None) -> str | None:
    """A UK mobile number in international form (+447…), or None when it is not one."""
    if not text:
        return None
    match = _UK_MOBILE.match(_SEPARATORS.sub("", text))
    return f"+44{match[1]}" if match else None


def national_mobile(international: str | None) -> str:
    """How a stored +447… number is shown back in the form: 07700 900982."""
    if not international or not international.startswith("+44"):
        return international or ""
    digits = "0" + international[3:]
    return f"{digits[:5]} {digits[5:]}"


YES, NO = "yes", "no"
YES_NO = [SelectChoice(YES, "Yes"), SelectChoice(NO, "No")]


class FamilyMemberForm(FlaskForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter their full name"),
            Length(max=200, message="Name must be 200 characters or fewer"),
        ],
    )
    relationship_to_child = StringField(
        "Relationship to the child",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="For example, mother, grandfather or older sister.",
        validators=[
            DataRequired("Enter their relationship to the child"),
            Length(max=100, message="Relationship must be 100 characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="We use it to invite them to the portal.",
        validators=[
            DataRequired("Enter their email address"),
            Email("Enter an email address in the correct format, like name@example.org", check_deliverability=False),
            Length(max=320, message="Email address must be 320 characters or fewer"),
        ],
    )
    phone = StringField(
        "Mobile phone number (optional)",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="A UK mobile number. Needed to send them text messages.",
        validators=[Optional(), Length(max=32, message="Enter a UK mobile number, like 07700 900982")],
    )
    postal_address = TextAreaField(
        "Postal address (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Needed for letters.",
        validators=[Length(max=1000, message="Postal address must be 1,000 characters or fewer")],
    )
    preferred_channel = RadioField(
        "How do they prefer to hear from us?",
        widget=GovRadioInput(),
        choices=[SelectChoice(channel.value, channel.label) for channel in PreferredChannel],
        validators=[InputRequired("Select how they prefer to hear from us")],
    )
    letter_worker = StringField(
        "Name of the worker who gives them letters",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="Only if they prefer a letter through a named worker.",
        validators=[Length(max=200, message="Worker's name must be 200 characters or fewer")],
    )
    support_needs = TextAreaField(
        "Support needs (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For example, an interpreter, large print, or someone with them when we meet.",
        validators=[Length(max=2000, message="Support needs must be 2,000 characters or fewer")],
    )
    young_person = RadioField(
        "Are they a young person?",
        widget=GovRadioInput(),
        choices=YES_NO,
        description="A young person takes part with an adult who supports them.",
        validators=[InputRequired("Select yes if they are a young person")],
    )
    supporting_adult = StringField(
        "Name of the supporting adult",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="Only for a young person: the adult who helps them take part.",
        validators=[Length(max=200, message="Supporting adult's name must be 200 characters or fewer")],
    )
    submit = SubmitField("Save", widget=GovSubmitInput())

    def validate_phone(self, field) -> None:
        if field.data and uk_mobile(field.data) is None:
            raise ValidationError("Enter a UK mobile number, like 07700 900982")

    def validate_letter_worker(self, field) -> None:
        if self.preferred_channel.data == PreferredChannel.LETTER.value and not field.data:
            raise ValidationError("Enter the name of the worker who will give them letters")

    def validate_postal_address(self, field) -> None:
        if self.preferred_channel.data == PreferredChannel.LETTER.value and not field.data:
            raise ValidationError("Enter a postal address to send them letters")

    def validate_supporting_adult(self, field) -> None:
        if self.young_person.data == YES and not field.data:
            raise ValidationError("Enter the name of the adult supporting the young person")

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        # Text messages need a number: said on the number's own box, so the summary links to it.
        if self.preferred_channel.data == PreferredChannel.SMS.value and not self.phone.data:
            self.phone.errors = [*self.phone.errors, "Enter a mobile number to send them text messages"]
            valid = False
        return valid

    def details(self) -> FamilyDetails:
        return FamilyDetails(
            name=self.name.data,
            email=self.email.data,
            relationship_to_child=self.relationship_to_child.data,
            preferred_channel=PreferredChannel(self.preferred_channel.data),
            phone=uk_mobile(self.phone.data),
            postal_address=self.postal_address.data or None,
            letter_worker=self.letter_worker.data or None,
            support_needs=self.support_needs.data or None,
            young_person=self.young_person.data == YES,
            supporting_adult=self.supporting_adult.data or None,
        )

    def fill_from(self, member: FamilyMember) -> None:
        """Show what is stored (on first opening the edit page)."""
        person = member.person
        self.name.data = person.name
        self.email.data = person.email
        self.phone.data = national_mobile(person.phone)
        self.relationship_to_child.data = member.relationship_to_child
        self.postal_address.data = member.postal_address or ""
        self.preferred_channel.data = member.preferred_channel
        self.letter_worker.data = member.letter_worker or ""
        self.support_needs.data = member.support_needs or ""
        self.young_person.data = YES if member.young_person else NO
        self.supporting_adult.data = member.supporting_adult or ""


LEAVE = "leave"
CONSENT_CHOICES = [SelectChoice(YES, "Yes"), SelectChoice(NO, "No"), SelectChoice(LEAVE, "Leave as it is")]


def _consent_field(label: str) -> RadioField:
    return RadioField(label, widget=GovRadioInput(), choices=CONSENT_CHOICES, default=LEAVE)


class ConsentConversationForm(FlaskForm):
    """One yes / no / leave-as-it-is question per consent choice; nothing chosen leaves it as it is."""

    updates_email = _consent_field("Updates by email")
    updates_sms = _consent_field("Updates by text message")
    updates_letter = _consent_field("Updates by letter")
    author_contact = _consent_field("Can the independent author contact them?")
    contribute = _consent_field("Do they want to contribute in their own words?")
    see_draft = _consent_field("Do they want to see the draft before it is published?")
    quote_anonymously = _consent_field("May their words be quoted in the report without their name?")
    submit = SubmitField("Record their choices", widget=GovSubmitInput())

    def answers(self) -> dict[Choice, bool | None]:
        result: dict[Choice, bool | None] = {}
        for question in CONSENT_QUESTIONS:
            value = getattr(self, question.key).data
            result[question.choice] = True if value == YES else False if value == NO else None
        return result


class UpdateForm(FlaskForm):
    subject = StringField(
        "Subject",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="Family members see this first, as the email's subject.",
        validators=[
            DataRequired("Enter a subject"),
            Length(max=200, message="Subject must be 200 characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Update",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Plain text. Use short sentences and everyday words. It goes by email or text message as written.",
        validators=[
            DataRequired("Enter the update"),
            Length(max=5000, message="Update must be 5,000 characters or fewer"),
        ],
    )
    check = SubmitField("Check reading age", widget=GovSubmitInput())
    send = SubmitField("Send update", widget=GovSubmitInput())
