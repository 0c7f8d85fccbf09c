"""Forms for coordinators: an event's details, cancelling it, the status filter and the register on the day."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import Field, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from portal.db import LONDON
from portal.events.models import Attendance, Audience, Event, EventKind, EventStatus, Mode
from portal.forms import GovDateField, strip_whitespace
from portal.richtext import editable_text, rich_text_from_input

# The last moment of a London day: registration stays open until then on the day it closes.
END_OF_DAY = time(23, 59, 59)
MOST_PLACES = 10_000

# "10:30", "10.30", "14:00", "10:30am", "2pm", "2 p.m."
_TIME = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>[ap])\.?\s*m\.?$|^(?P<hour24>\d{1,2})[:.](?P<minute24>\d{2})$"
)


def parse_time(text: str) -> time | None:
    """A time as people type it, or None if it is not one: '10:30', '10:30am', '2pm', '14:00', 'midday'."""
    text = text.strip().lower()
    if text in {"midday", "noon", "12 noon"}:
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    match = _TIME.match(text)
    if match is None:
        return None
    if match["half"]:
        hour, minute = int(match["hour"]), int(match["minute"] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if match["half"] == "p" else 0), minute)
    hour, minute = int(match["hour24"]), int(match["minute24"])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def time_in_words(value: time) -> str:
    """'10:30am', '2pm': how the portal writes a time back into a form."""
    suffix = "am" if value.hour < 12 else "pm"
    hour = value.hour % 12 or 12
    return f"{hour}{suffix}" if value.minute == 0 else f"{hour}:{value.minute:02d}{suffix}"


class GovTimeField(Field):
    """A time of day typed in one box, checked with plain messages; what was typed is shown back as typed."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, what: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what = what  # "start time": used in "Enter a start time, like 10:30am or 14:30"
        self._entered: str | None = None

    def process_formdata(self, valuelist):
        self._entered = str(valuelist[0]).strip() if valuelist else ""
        self.data = None

    def _value(self) -> str:
        if self._entered is not None:
            return self._entered
        return time_in_words(self.data) if isinstance(self.data, time) else ""

    def pre_validate(self, form):
        if self._entered is None:
            return
        if not self._entered:
            raise StopValidation(f"Enter a {self.what}, like 10:30am or 14:30")
        parsed = parse_time(self._entered)
        if parsed is None:
            raise StopValidation(f"Enter a real {self.what}, like 10:30am or 14:30")
        self.data = parsed


class WholeNumberField(Field):
    """A whole number typed in a box, with messages that say what is wrong; what was typed is kept."""

    widget = GovTextInput()

    def __init__(self, label=None, validators=None, *, what: str, least: int, most: int, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.what, self.least, self.most = what, least, most
        self._entered: str | None = None

    def process_formdata(self, valuelist):
        self._entered = str(valuelist[0]).strip().replace(",", "") if valuelist else ""
        self.data = None

    def _value(self) -> str:
        if self._entered is not None:
            return self._entered
        return "" if self.data is None else str(self.data)

    def pre_validate(self, form):
        if self._entered is None:
            return
        if not self._entered:
            raise StopValidation(f"Enter the {self.what}")
        if not (self._entered.isascii() and self._entered.isdigit()):
            raise StopValidation(f"The {self.what} must be a whole number, like 30")
        number = int(self._entered)
        if number < self.least:
            raise StopValidation(f"The {self.what} must be {self.least} or more")
        if number > self.most:
            raise StopValidation(f"The {self.what} must be {self.most:,} or fewer")
        self.data = number


def london_to_utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON).astimezone(UTC)


def _exists_in_london(day: date, at: time) -> bool:
    """False for the hour the clocks skip when they go forward in March."""
    moment = london_to_utc(day, at).astimezone(LONDON)
    return (moment.date(), moment.time()) == (day, at)


class EventForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter the event title"),
            Length(max=200, message="The title must be 200 characters or fewer"),
        ],
    )
    summary = TextAreaField(
        "Summary",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="What the event is about and who it is for. Leave a blank line between paragraphs.",
        validators=[
            DataRequired("Enter a summary of the event"),
            Length(max=10_000, message="The summary must be 10,000 characters or fewer"),
        ],
    )
    kind = RadioField(
        "What kind of event is it?",
        widget=GovRadioInput(),
        choices=[SelectChoice(kind.value, kind.label) for kind in EventKind],
        validators=[InputRequired("Select what kind of event it is")],
        validate_choice=False,
    )
    review = SelectField(
        "Review",
        widget=GovSelect(),
        description="Needed for a practitioner event, and for an event only for the members of a review.",
        validate_choice=False,
    )
    audience = RadioField(
        "Who can come?",
        widget=GovRadioInput(),
        choices=[SelectChoice(audience.value, audience.label) for audience in Audience],
        validators=[InputRequired("Select who can come")],
        validate_choice=False,
    )
    day = GovDateField("Date", what="the date of the event", description="For example, 18 3 2027")
    starts = GovTimeField("Start time", what="start time", description="For example, 10am or 14:30")
    ends = GovTimeField("End time", what="end time", description="For example, 12:30pm or 16:00")
    mode = RadioField(
        "Is it in person or online?",
        widget=GovRadioInput(),
        choices=[SelectChoice(mode.value, mode.label) for mode in Mode],
        validators=[InputRequired("Select whether the event is in person or online")],
        validate_choice=False,
    )
    venue = TextAreaField(
        "Venue",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="If in person: the building, address and room.",
        validators=[Length(max=2000, message="The venue must be 2,000 characters or fewer")],
    )
    accessibility = TextAreaField(
        "Accessibility information",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="If in person: step-free access, hearing loops, parking, toilets.",
        validators=[Length(max=5000, message="The accessibility information must be 5,000 characters or fewer")],
    )
    joining_link = StringField(
        "Joining link",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="If online: starting with https://. Only people with a confirmed place will see it.",
        validators=[Length(max=500, message="The joining link must be 500 characters or fewer")],
    )
    capacity = WholeNumberField(
        "Number of places", what="number of places", least=1, most=MOST_PLACES, description="For example, 30"
    )
    opens = GovDateField(
        "Registration opens", what="the date registration opens", description="People can register from this day."
    )
    closes = GovDateField(
        "Registration closes",
        what="the date registration closes",
        description="The last day people can register: on or before the day of the event.",
    )
    submit = SubmitField("Save the event", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        needs_review = self.kind.data == EventKind.PRACTITIONER_EVENT.value
        known_reviews = {str(choice.value) for choice in self.review.iter_choices()} - {""}
        if self.review.data and self.review.data not in known_reviews:
            self.review.errors.append("Select a review from the list")
            valid = False
        elif needs_review and not self.review.data:
            self.review.errors.append("Select the review this practitioner event is for")
            valid = False
        elif self.audience.data == Audience.REVIEW_MEMBERS.value and not self.review.data:
            self.review.errors.append("Select the review whose members can come")
            valid = False
        if self.mode.data == Mode.IN_PERSON.value and not self.venue.data and not self.venue.errors:
            self.venue.errors.append("Enter the venue")
            valid = False
        if self.mode.data == Mode.ONLINE.value and not self.joining_link.errors:
            if not self.joining_link.data:
                self.joining_link.errors.append("Enter the joining link")
                valid = False
            elif not _is_https_link(self.joining_link.data):
                self.joining_link.errors.append("Enter a joining link starting with https://")
                valid = False
        day, starts, ends = self.day.data, self.starts.data, self.ends.data
        if day and starts and not _exists_in_london(day, starts):
            self.starts.errors.append("The clocks go forward that night, so that start time does not exist")
            valid = False
        elif day and ends and not _exists_in_london(day, ends):
            self.ends.errors.append("The clocks go forward that night, so that end time does not exist")
            valid = False
        elif starts and ends and ends <= starts:
            self.ends.errors.append("The end time must be after the start time")
            valid = False
        if day and self.closes.data and self.closes.data > day:
            self.closes.errors.append("The date registration closes must be on or before the day of the event")
            valid = False
        elif self.opens.data and self.closes.data and self.opens.data > self.closes.data:
            self.opens.errors.append("The date registration opens must be on or before the date it closes")
            valid = False
        elif valid and self.registration_window()[1] <= self.registration_window()[0]:
            self.opens.errors.append("Registration must open before the event starts")
            valid = False
        return valid

    def registration_window(self) -> tuple[datetime, datetime]:
        """From the start of the opening day to the end of the closing day (London), or the start if sooner."""
        opens_at = london_to_utc(self.opens.data, time(0, 0))
        closes_at = min(london_to_utc(self.closes.data, END_OF_DAY), london_to_utc(self.day.data, self.starts.data))
        return opens_at, closes_at

    def event_fields(self) -> dict:
        """The validated answers as the Event's columns, in UTC."""
        in_person = self.mode.data == Mode.IN_PERSON.value
        opens_at, closes_at = self.registration_window()
        return {
            "title": self.title.data,
            "summary_html": rich_text_from_input(self.summary.data),
            "kind": self.kind.data,
            "audience": self.audience.data,
            "review_id": int(self.review.data) if self.review.data else None,
            "starts_at": london_to_utc(self.day.data, self.starts.data),
            "ends_at": london_to_utc(self.day.data, self.ends.data),
            "mode": self.mode.data,
            "venue": self.venue.data if in_person else None,
            "accessibility": (self.accessibility.data or None) if in_person else None,
            "joining_link": None if in_person else self.joining_link.data,
            "capacity": self.capacity.data,
            "registration_opens_at": opens_at,
            "registration_closes_at": closes_at,
        }

    def fill_from(self, event: Event) -> None:
        """Show an event's stored details in London time, for editing."""
        starts, ends = event.starts_at.astimezone(LONDON), event.ends_at.astimezone(LONDON)
        self.title.data = event.title
        self.summary.data = editable_text(event.summary_html)
        self.kind.data = event.kind
        self.review.data = str(event.review_id) if event.review_id else ""
        self.audience.data = event.audience
        self.day.data = starts.date()
        self.starts.data = starts.time().replace(second=0, microsecond=0)
        self.ends.data = ends.time().replace(second=0, microsecond=0)
        self.mode.data = event.mode
        self.venue.data = event.venue or ""
        self.accessibility.data = event.accessibility or ""
        self.joining_link.data = event.joining_link or ""
        self.capacity.data = event.capacity
        self.opens.data = event.registration_opens_at.astimezone(LONDON).date()
        self.closes.data = event.registration_closes_at.astimezone(LONDON).date()


def _is_https_link(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname) and not any(char.isspace() for char in value)


class CancelEventForm(FlaskForm):
    reason = TextAreaField(
        "Why is the event cancelled?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Everyone registered is told this, in the email saying the event is cancelled.",
        validators=[
            DataRequired("Enter why the event is cancelled"),
            Length(max=2000, message="The reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Cancel the event", widget=GovSubmitInput())


class StatusFilterForm(FlaskForm):
    """The list's filter: a GET form, so it needs no CSRF token and a link to it can be shared."""

    class Meta:
        csrf = False

    status = SelectField(
        "Show events that are",
        widget=GovSelect(),
        choices=[SelectChoice("", "Any status")] + [SelectChoice(status.value, status.label) for status in EventStatus],
        validate_choice=False,
    )


class AttendanceMarkForm(FlaskForm):
    """One person's mark on the register: which registration, and the button pressed."""

    registration = HiddenField(validators=[InputRequired()])
    attendance = RadioField(
        choices=[SelectChoice(mark.value, mark.label) for mark in Attendance],
        validators=[InputRequired("Select attended or did not attend")],
    )
