"""Forms for contribution requests: asking for a contribution, and a professional's answer."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovFileInput, GovSubmitInput, GovTextArea
from wtforms import SelectMultipleField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.authoring.requests import DEFAULT_WORKING_DAYS, MOST_WORKING_DAYS
from portal.events.forms import WholeNumberField
from portal.forms import strip_whitespace


class AskForm(FlaskForm):
    recipients = SelectMultipleField(
        "Who do you want to ask?",
        widget=GovCheckboxesInput(),
        coerce=int,
        description="Each person gets their own request and can answer only for themselves.",
        validators=[DataRequired("Select who to ask")],
    )
    prompt = TextAreaField(
        "Your question or prompt",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Plain text. Family members read exactly what you write, so use everyday words.",
        validators=[
            DataRequired("Enter the question or prompt"),
            Length(max=5000, message="The question must be 5,000 characters or fewer"),
        ],
    )
    guidance = TextAreaField(
        "Guidance (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Anything that helps them answer: what to include, what you already have.",
        validators=[Optional(), Length(max=20_000, message="The guidance must be 20,000 characters or fewer")],
    )
    working_days = WholeNumberField(
        "How many working days do they have?",
        what="number of working days",
        least=1,
        most=MOST_WORKING_DAYS,
        default=DEFAULT_WORKING_DAYS,
        description="Weekends, bank holidays and partnership closure days are not counted.",
    )
    check = SubmitField("Check the due date", widget=GovSubmitInput())
    send = SubmitField("Send the request", widget=GovSubmitInput())


class AnswerForm(FlaskForm):
    text = TextAreaField(
        "Your answer",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=100_000, message="Your answer must be 100,000 characters or fewer")],
    )
    file = FileField("Add a file (optional)", widget=GovFileInput())
    save = SubmitField("Save as draft", widget=GovSubmitInput())
    send = SubmitField("Send to the author", widget=GovSubmitInput())
