"""Forms for the Rapid Review's steps."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from portal.forms import GovDateField, strip_whitespace
from portal.reviews.models import Reg11Criterion

LONG_TEXT = 5000
CRITERIA_LEGEND = "Regulation 11 criteria that apply"


def _who(label: str, message: str, hint: str | None = None) -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description=hint,
        validators=[DataRequired(message), Length(max=200, message=f"{label} must be 200 characters or fewer")],
        render_kw={"params": {"classes": "govuk-!-width-two-thirds", "spellcheck": False}},
    )


def _yes_no(label: str, message: str) -> RadioField:
    # Choices are checked by AnyOf, so a missing answer gets the GOV.UK message rather than "Not a valid choice".
    return RadioField(
        label,
        choices=[SelectChoice("yes", "Yes"), SelectChoice("no", "No")],
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InputRequired(message), AnyOf(["yes", "no"], message=message)],
        render_kw={
            "params": {
                "classes": "govuk-radios--inline",
                "hint": None,
                "fieldset": {"legend": {"text": label, "classes": "govuk-fieldset__legend--s"}},
            }
        },
    )


def _long_text(label: str, validators: list, hint: str | None = None) -> TextAreaField:
    return TextAreaField(
        label,
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description=hint,
        validators=[*validators, Length(max=LONG_TEXT, message=f"{label} must be {LONG_TEXT} characters or fewer")],
        render_kw={"params": {"rows": 6}},
    )


class NotifyRecommendationForm(FlaskForm):
    on = GovDateField(
        "Date of the recommendation",
        what="the date of the recommendation",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    by = _who(
        "Who made the recommendation",
        "Enter who made the recommendation",
        "For example, the chair of the Review Advisory Group",
    )
    submit = SubmitField("Save the recommendation", widget=GovSubmitInput())


class NotificationForm(FlaskForm):
    on = GovDateField(
        "Date the notification was sent to the Panel",
        what="the date the notification was sent",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    by = _who(
        "Who sent the notification",
        "Enter who sent the notification",
        "The person at the local authority who submitted it",
    )
    submit = SubmitField("Save the notification", widget=GovSubmitInput())


class AgencyReturnRequestForm(FlaskForm):
    lead = SelectField(
        "Agency lead to ask",
        widget=GovSelect(),
        validate_choice=False,
        validators=[InputRequired("Select the agency lead to ask")],
        description="The request goes to the agency through its lead on this review",
    )
    requested_on = GovDateField(
        "Date of the request", what="the date of the request", not_in_future=True, description="For example, 27 3 2026"
    )
    submit = SubmitField("Request the return", widget=GovSubmitInput())


class ReturnReceivedForm(FlaskForm):
    on = GovDateField(
        "Date the return was received",
        what="the date the return was received",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    submit = SubmitField("Save the date received", widget=GovSubmitInput())


class MeetingForm(FlaskForm):
    on = GovDateField(
        "Date of the meeting", what="the date of the meeting", not_in_future=True, description="For example, 27 3 2026"
    )
    notes = _long_text(
        "Notes (optional)", [Optional()], "Who attended and anything to note. Use the child's anonymised name"
    )
    submit = SubmitField("Save the meeting", widget=GovSubmitInput())


class CsprRecommendationForm(FlaskForm):
    recommend = _yes_no(
        "Does the Review Advisory Group recommend a Child Safeguarding Practice Review?",
        "Select yes if the Review Advisory Group recommends a Child Safeguarding Practice Review",
    )
    on = GovDateField(
        "Date of the recommendation",
        what="the date of the recommendation",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    reasons = _long_text("Reasons for the recommendation", [DataRequired("Enter the reasons for the recommendation")])
    criteria = SelectMultipleField(
        CRITERIA_LEGEND,
        choices=[SelectChoice(criterion.value, criterion.label) for criterion in Reg11Criterion],
        widget=GovCheckboxesInput(),
        description="Select all that apply. At least one is needed when recommending a CSPR",
        render_kw={
            "params": {"fieldset": {"legend": {"text": CRITERIA_LEGEND, "classes": "govuk-fieldset__legend--s"}}}
        },
    )
    submit = SubmitField("Save the recommendation", widget=GovSubmitInput())

    def validate_criteria(self, field):
        if self.recommend.data == "yes" and not field.data:
            raise ValidationError("Select the regulation 11 criteria that apply when recommending a CSPR")


class DecisionForm(FlaskForm):
    commission = _yes_no(
        "Did the Executive decide to commission a Child Safeguarding Practice Review?",
        "Select yes if the Executive decided to commission a Child Safeguarding Practice Review",
    )
    by = _who("Who made the decision", "Enter who made the decision", "For example, the chair of the LSCP Executive")
    on = GovDateField(
        "Date of the decision",
        what="the date of the decision",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    reason = _long_text("Reason for the decision", [DataRequired("Enter the reason for the decision")])
    submit = SubmitField("Save the final decision", widget=GovSubmitInput())


class OutcomeSentForm(FlaskForm):
    on = GovDateField(
        "Date the outcome was sent to the Panel",
        what="the date the outcome was sent",
        not_in_future=True,
        description="For example, 27 3 2026",
    )
    submit = SubmitField("Save the date sent", widget=GovSubmitInput())
