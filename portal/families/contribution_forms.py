"""Forms for family contributions: the words and files a family member sends, and the staff's acknowledgement."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from portal.forms import strip_whitespace


class ContributionForm(FlaskForm):
    title = StringField(
        "Give it a short title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a short title"),
            Length(max=200, message="The title must be 200 characters or fewer"),
        ],
    )
    text = TextAreaField(
        "What would you like to tell us?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[Length(max=100_000, message="What you wrote must be 100,000 characters or fewer")],
    )
    file = FileField("Add a file (optional)", widget=GovFileInput())
    save = SubmitField("Save as draft", widget=GovSubmitInput())
    send = SubmitField("Send to the review", widget=GovSubmitInput())


class FileForm(FlaskForm):
    file = FileField("Add a file", widget=GovFileInput())
    add = SubmitField("Add this file", widget=GovSubmitInput())


class ButtonForm(FlaskForm):
    """A form that is only a button (remove a file, acknowledge): the CSRF token is all it carries."""
