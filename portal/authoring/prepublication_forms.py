"""Forms for pre-publication review: sharing a version, comments, replies, resolutions and responses."""

from __future__ import annotations

from datetime import datetime

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SelectMultipleField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.authoring.models import ResponseKind
from portal.authoring.prepublication import TEXT_LENGTH
from portal.db import utcnow
from portal.events.forms import GovTimeField, _exists_in_london, london_to_utc
from portal.forms import GovDateField, strip_whitespace

TOO_LONG = f"must be {TEXT_LENGTH:,} characters or fewer"


def _text(label: str, *, required: str | None, description: str | None = None, what: str) -> TextAreaField:
    validators = [DataRequired(required)] if required else [Optional()]
    return TextAreaField(
        label,
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description=description,
        validators=[*validators, Length(max=TEXT_LENGTH, message=f"{what} {TOO_LONG}")],
    )


class OptionalTimeField(GovTimeField):
    """A time that may be left empty."""

    def pre_validate(self, form):
        if self._entered == "":
            self.data = None
            return
        super().pre_validate(form)


class ShareForm(FlaskForm):
    readers = SelectMultipleField(
        "Who should read this version?",
        widget=GovCheckboxesInput(),
        coerce=int,
        description="Panel members, and family members who have said they want to read the report.",
        validators=[DataRequired("Select who to share the version with")],
    )
    opens_day = GovDateField(
        "Opens on (optional)",
        what="the day it opens",
        required=False,
        description="Leave empty to open it now. For example, 18 3 2027",
    )
    opens_time = OptionalTimeField("Opens at (optional)", what="time it opens", description="For example, 9am")
    closes_day = GovDateField("Closes on", what="the day it closes", description="For example, 1 4 2027")
    closes_time = GovTimeField("Closes at", what="time it closes", description="For example, 5pm or 17:00")
    message = _text(
        "Message to the readers (optional)",
        required=None,
        what="The message",
        description="Plain text. Family members read exactly what you write, so use everyday words.",
    )
    submit = SubmitField("Share this version", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.opens_time.data is not None and self.opens_day.data is None and not self.opens_day.errors:
            self.opens_day.errors.append("Enter the day it opens, or leave the time empty too")
            valid = False
        for day, at in ((self.opens_day, self.opens_time), (self.closes_day, self.closes_time)):
            if day.data and at.data and not _exists_in_london(day.data, at.data):
                at.errors.append("The clocks go forward that night, so that time does not exist")
                valid = False
        if valid:
            opens_at, closes_at = self.window(utcnow())
            if closes_at <= opens_at:
                self.closes_day.errors.append("The window must close after it opens")
                valid = False
        return valid

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """(opens, closes) in UTC; an empty opening means now, an opening day without a time its start."""
        if self.opens_day.data is None:
            opens_at = now
        else:
            opens_at = london_to_utc(self.opens_day.data, self.opens_time.data or datetime.min.time())
        return opens_at, london_to_utc(self.closes_day.data, self.closes_time.data)


class CommentForm(FlaskForm):
    text = _text(
        "Your comment",
        required="Enter your comment",
        what="Your comment",
        description="Only you and the people writing the report can see it.",
    )
    submit = SubmitField("Send your comment", widget=GovSubmitInput())


class ReplyForm(FlaskForm):
    reply = _text(
        "Your reply",
        required="Enter your reply",
        what="Your reply",
        description="The reader sees it with their comment.",
    )
    submit = SubmitField("Send the reply", widget=GovSubmitInput())


class ResolveForm(FlaskForm):
    change_made = _text(
        "What changed in the report?",
        required="Enter what changed in the report, or why nothing changed",
        what="What changed",
        description="For example, “Changed paragraph 3” or “No change: the dates are taken from the health records”.",
    )
    submit = SubmitField("Resolve the comment", widget=GovSubmitInput())


class ResponseForm(FlaskForm):
    kind = RadioField(
        "What do you think of the report?",
        widget=GovRadioInput(),
        choices=[SelectChoice(kind.value, kind.label) for kind in ResponseKind],
        validators=[InputRequired("Choose one answer")],
    )
    text = _text(
        "Tell us more (you do not have to)",
        required=None,
        what="What you write",
    )
    submit = SubmitField("Send your answer", widget=GovSubmitInput())
