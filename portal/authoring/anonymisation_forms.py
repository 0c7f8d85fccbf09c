"""Forms for the anonymisation gate: a protected term, a waiver's reason, and the reason to undo a final mark."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from portal.authoring.models import TermCategory
from portal.forms import strip_whitespace


class ProtectedTermForm(FlaskForm):
    category = RadioField(
        "What is it?",
        widget=GovRadioInput(),
        choices=[SelectChoice(category.value, category.label) for category in TermCategory],
        validators=[InputRequired("Select what the term is")],
    )
    term = StringField(
        "Name, address or other detail",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="Add each way it might be written as a term of its own: a full name, a first name, a nickname.",
        validators=[
            DataRequired("Enter the name, address or other detail to protect"),
            Length(max=200, message="The term must be 200 characters or fewer"),
        ],
    )
    submit = SubmitField("Add term", widget=GovSubmitInput())

    @property
    def category_enum(self) -> TermCategory:
        return TermCategory(self.category.data)


class WaiverForm(FlaskForm):
    reason = TextAreaField(
        "Why can this stay in the published report?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For example, it is the name of a national service, or a date that identifies no one.",
        validators=[
            DataRequired("Enter why this can stay in the report"),
            Length(max=2000, message="The reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Waive this hit", widget=GovSubmitInput())


class UndoFinalForm(FlaskForm):
    reason = TextAreaField(
        "Why is this version no longer final?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter why this version is no longer final"),
            Length(max=2000, message="The reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Undo final", widget=GovSubmitInput())
