"""Forms for publication: the decision, the dates, publishing (with any short-notice acknowledgement), the NSPCC."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput, GovSubmitInput, GovTextArea
from wtforms import BooleanField, RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from portal.authoring.models import PublicationDecision
from portal.forms import GovDateField, strip_whitespace

RICH_TEXT_HINT = "Leave a blank line between paragraphs. This appears on the public learning page."


class DecisionForm(FlaskForm):
    decision = RadioField(
        "What has the partnership decided?",
        widget=GovRadioInput(),
        choices=[SelectChoice(decision.value, decision.label) for decision in PublicationDecision],
        validators=[InputRequired("Select whether the report will be published")],
    )
    reason = TextAreaField(
        "Why will the report not be published?",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For the partnership's record only. It is never shown on the public page.",
        validators=[Length(max=5000, message="The reason must be 5,000 characters or fewer")],
    )
    improvements = TextAreaField(
        "Information about improvements to publish instead",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description=RICH_TEXT_HINT,
        validators=[
            Length(max=50_000, message="The information about improvements must be 50,000 characters or fewer")
        ],
    )
    learning_summary = TextAreaField(
        "Learning summary (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description=RICH_TEXT_HINT,
        validators=[Optional(), Length(max=50_000, message="The learning summary must be 50,000 characters or fewer")],
    )
    submit = SubmitField("Save the decision", widget=GovSubmitInput())

    @property
    def decision_enum(self) -> PublicationDecision:
        return PublicationDecision(self.decision.data)

    def validate(self, extra_validators=None) -> bool:
        """Not publishing needs its reason and the improvements; publishing needs neither."""
        valid = super().validate(extra_validators)
        if self.decision.data == PublicationDecision.DO_NOT_PUBLISH.value:
            if not self.reason.data:
                self.reason.errors = [*self.reason.errors, "Enter why the report will not be published"]
                valid = False
            if not self.improvements.data:
                self.improvements.errors = [
                    *self.improvements.errors,
                    "Enter the information about improvements to publish instead",
                ]
                valid = False
        return valid


class DatesForm(FlaskForm):
    sent_to_panel_on = GovDateField(
        "When did the final report go to the National Panel?",
        what="the date the report went to the National Panel",
        required=False,
        not_in_future=True,
    )
    sent_to_secretary_of_state_on = GovDateField(
        "When did the final report go to the Secretary of State?",
        what="the date the report went to the Secretary of State",
        required=False,
        not_in_future=True,
    )
    publication_date = GovDateField(
        "Planned publication date",
        what="the publication date",
        required=False,
    )
    submit = SubmitField("Save the dates", widget=GovSubmitInput())


class PublishForm(FlaskForm):
    acknowledge = BooleanField(
        "I understand the report went out later than the rule asks, and the partnership still wants to publish",
        widget=GovCheckboxInput(),
    )
    submit = SubmitField("Publish", widget=GovSubmitInput())


class NspccForm(FlaskForm):
    sent_on = GovDateField(
        "When was it sent to the NSPCC national case review repository?",
        what="the date it was sent to the NSPCC",
        not_in_future=True,
        legend_classes="govuk-fieldset__legend--m",
    )
    submit = SubmitField("Save the date", widget=GovSubmitInput())
