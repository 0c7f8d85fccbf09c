"""Forms for recording an incident, moving a review through its stages and regulation 14 monitoring."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.forms import GovDateField, strip_whitespace
from portal.reviews.models import Stage


class IncidentForm(FlaskForm):
    reference = StringField(
        "Reference",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="For example, LSCP-2026-004. The next free reference is filled in for you.",
        validators=[
            InputRequired("Enter the review's reference"),
            Length(max=30, message="Reference must be 30 characters or fewer"),
        ],
    )
    anonymised_name = StringField(
        "Anonymised name",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="Used everywhere in the portal instead of the child's name, for example Child H.",
        validators=[
            InputRequired("Enter the anonymised name, for example Child H"),
            Length(max=100, message="Anonymised name must be 100 characters or fewer"),
        ],
    )
    aware_on = GovDateField(
        "When did the local authority become aware of the incident?",
        what="the date the local authority became aware",
        not_in_future=True,
        description="For example, 18 11 2026",
    )
    reason = TextAreaField(
        "What happened",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="A few words for the review's timeline. Do not use the child's or family's names.",
        validators=[
            InputRequired("Enter what happened, in a few words"),
            Length(max=5000, message="What happened must be 5,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Record the incident", widget=GovSubmitInput())


class MoveForm(FlaskForm):
    to_stage = RadioField(
        "Which stage is the review moving to?",
        widget=GovRadioInput(),
        description="Only the stages this review can move to next are shown.",
        validators=[InputRequired("Select the stage the review is moving to")],
        validate_choice=False,  # the service gives the clearer refusal for a stage that is not allowed
    )
    reason = TextAreaField(
        "Why is it moving?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="This is kept in the review's timeline with your name and the time.",
        validators=[
            InputRequired("Enter why the review is moving to the next stage"),
            Length(max=5000, message="The reason must be 5,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Move the review", widget=GovSubmitInput())


class MonitoringForm(FlaskForm):
    kind = RadioField(
        "What are you asking the author for?",
        widget=GovRadioInput(),
        description="The regulations let the partners ask the reviewer for information or a draft, in writing.",
        choices=[SelectChoice("information", "Information"), SelectChoice("draft", "A draft of the report")],
        validators=[InputRequired("Select whether you are asking for information or a draft")],
        validate_choice=False,
    )
    details = TextAreaField(
        "What exactly are you asking for?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="This is the written request the regulations require. The author will see it.",
        validators=[
            InputRequired("Enter what you are asking the author for"),
            Length(max=5000, message="The request must be 5,000 characters or fewer"),
        ],
    )
    due_on = GovDateField(
        "When should the author answer by?",
        what="the due date",
        not_in_past=True,
        description="For example, 18 12 2026",
    )
    submit = SubmitField("Record the request", widget=GovSubmitInput())


class StageFilterForm(FlaskForm):
    """The list's filter: a GET form, so it needs no CSRF token and a link to it can be shared."""

    class Meta:
        csrf = False

    stage = SelectField(
        "Stage",
        widget=GovSelect(),
        choices=[SelectChoice("", "All stages")] + [SelectChoice(stage.value, stage.label) for stage in Stage],
        validate_choice=False,
    )
    submit = SubmitField("Filter", widget=GovSubmitInput())
