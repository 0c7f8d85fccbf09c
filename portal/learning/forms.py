"""Forms for the action plan and the briefing."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import (
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import GovDateField, strip_whitespace
from portal.learning.models import ActionStatus, LearningAction
from portal.learning.services import ActionDetails


class LearningPointForm(FlaskForm):
    text = TextAreaField(
        "Learning point",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="What the partnership must learn, in a sentence or two. Plain text.",
        validators=[
            DataRequired("Enter the learning point"),
            Length(max=2000, message="The learning point must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Save learning point", widget=GovSubmitInput())


class ActionForm(FlaskForm):
    description = TextAreaField(
        "What will be done",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter what will be done"),
            Length(max=5000, message="What will be done must be 5,000 characters or fewer"),
        ],
    )
    agency = SelectField(
        "Agency that owns it",
        widget=GovSelect(),
        coerce=str,
        validators=[DataRequired("Select the agency that owns the action")],
    )
    lead_name = StringField(
        "Lead",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="The name or job title of the person who leads it.",
        validators=[
            DataRequired("Enter the lead's name"),
            Length(max=200, message="The lead's name must be 200 characters or fewer"),
        ],
    )
    due_on = GovDateField("Due date", what="the due date", description="For example, 27 3 2027")
    submit = SubmitField("Save action", widget=GovSubmitInput())

    def offer_agencies(self, agencies) -> None:
        self.agency.choices = [SelectChoice("", "Choose an agency")] + [
            SelectChoice(str(agency.id), agency.name) for agency in agencies
        ]

    def fill_from(self, action: LearningAction) -> None:
        self.description.data = action.description
        self.agency.data = str(action.agency_id)
        self.lead_name.data = action.lead_name
        self.due_on.data = action.due_on

    def details(self) -> ActionDetails:
        return ActionDetails(
            description=self.description.data,
            agency_id=int(self.agency.data),
            lead_name=self.lead_name.data,
            due_on=self.due_on.data,
        )


class ProgressForm(FlaskForm):
    text = TextAreaField(
        "What has happened",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter what has happened"),
            Length(max=5000, message="What has happened must be 5,000 characters or fewer"),
        ],
    )
    status = RadioField(
        "Status now",
        widget=GovRadioInput(),
        choices=[SelectChoice(status.value, status.label) for status in ActionStatus],
        validators=[InputRequired("Select the action's status now")],
    )
    evidence = FileField(
        "Evidence (optional)",
        widget=GovFileInput(),
        description="A PDF, a picture or a Word document, up to 20 MB.",
    )
    submit = SubmitField("Add progress update", widget=GovSubmitInput())

    @property
    def status_enum(self) -> ActionStatus:
        return ActionStatus(self.status.data)


class BriefingForm(FlaskForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a title"),
            Length(max=200, message="The title must be 200 characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Briefing",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="One page for practitioners: what happened, what we learned, what to do differently. "
        "Leave a blank line between paragraphs.",
        validators=[
            DataRequired("Enter the briefing"),
            Length(max=20_000, message="The briefing must be 20,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Save briefing", widget=GovSubmitInput())


class LinkEventForm(FlaskForm):
    event = SelectField(
        "Learning event",
        widget=GovSelect(),
        coerce=str,
        validators=[DataRequired("Select an event")],
    )
    submit = SubmitField("Link event", widget=GovSubmitInput())

    def offer_events(self, events, when) -> None:
        self.event.choices = [SelectChoice("", "Choose an event")] + [
            SelectChoice(str(event.id), f"{event.title} ({when(event.starts_at)})") for event in events
        ]
