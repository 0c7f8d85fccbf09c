"""Forms for appointing members, ending a membership and the author's declaration of independence."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.forms import strip_whitespace
from portal.reviews.models import MembershipKind


class AppointForm(FlaskForm):
    # Rendered by hand in the template: the people are grouped by role, which the GOV.UK select macro cannot do.
    person = StringField(
        "Person", filters=[strip_whitespace], validators=[InputRequired("Select the person to appoint")]
    )
    kind = RadioField(
        "Their part in the review",
        widget=GovRadioInput(),
        choices=[SelectChoice(kind.value, kind.label) for kind in MembershipKind],
        validators=[InputRequired("Select their part in the review")],
    )
    submit = SubmitField("Appoint", widget=GovSubmitInput())

    def person_id(self) -> int | None:
        try:
            return int(self.person.data)
        except (TypeError, ValueError):
            return None


class EndMembershipForm(FlaskForm):
    reason = TextAreaField(
        "Why is this membership ending?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For example, the practitioner has left the agency. The reason is kept in the review's record.",
        validators=[
            InputRequired("Enter why this membership is ending"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("End membership", widget=GovSubmitInput())


NO_INVOLVEMENT_IN_CASE = "case"
NO_INVOLVEMENT_WITH_AGENCIES = "agencies"


class IndependenceForm(FlaskForm):
    # Nothing is required here: the service explains why both statements must be true.
    statements = SelectMultipleField(
        "Your independence",
        widget=GovCheckboxesInput(),
        choices=[
            SelectChoice(NO_INVOLVEMENT_IN_CASE, "I have had no involvement in this case or with the child and family"),
            SelectChoice(
                NO_INVOLVEMENT_WITH_AGENCIES,
                "I have had no involvement with the agencies being reviewed, as an employee or otherwise",
            ),
        ],
        description="Select both statements if they are true.",
        validators=[Optional()],
    )
    statement = TextAreaField(
        "Anything you want to add (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For example, past work in the area that you think the coordinator should know about.",
        validators=[Length(max=5000, message="What you add must be 5,000 characters or fewer")],
    )
    submit = SubmitField("Declare my independence", widget=GovSubmitInput())

    @property
    def no_involvement_in_case(self) -> bool:
        return NO_INVOLVEMENT_IN_CASE in (self.statements.data or [])

    @property
    def no_involvement_with_agencies(self) -> bool:
        return NO_INVOLVEMENT_WITH_AGENCIES in (self.statements.data or [])
