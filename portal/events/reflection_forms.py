"""Forms for writing, submitting and deleting a reflection."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from portal.events.models import Sharing
from portal.forms import strip_whitespace

BODY_HINT = (
    "Write in your own words. Leave a blank line between paragraphs. Web and email addresses become links. "
    "Do not use the names of the child or family."
)
BODY_MAX = 20_000

SHARING_LABELS = {
    Sharing.PRIVATE: "Keep it to myself",
    Sharing.NAMED: "Share with the review's author with my name",
    Sharing.ANONYMOUS: "Share with the review's author without my name (they will see only your agency and role)",
}


class ReflectionForm(FlaskForm):
    """A reflection's words. ``about`` is asked only on a new reflection not opened from an event or review."""

    about = SelectField(
        "What is your reflection about?",
        widget=GovSelect(),
        description="An event you registered for, or a review you are taking part in.",
        validators=[InputRequired("Select what your reflection is about")],
        validate_choice=False,  # the route checks the choice against what the person may write about
    )
    title = StringField(
        "Title",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="A few words to find it again, for example: After the practitioner event.",
        validators=[
            InputRequired("Enter a title for your reflection"),
            Length(max=200, message="Title must be 200 characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Your reflection",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description=BODY_HINT,
        validators=[Length(max=BODY_MAX, message="Your reflection must be 20,000 characters or fewer")],
    )
    submit = SubmitField("Save draft", widget=GovSubmitInput())


class SubmitReflectionForm(FlaskForm):
    sharing = RadioField(
        "Who can read your reflection?",
        widget=GovRadioInput(),
        validators=[InputRequired("Select whether to keep your reflection to yourself or share it")],
        validate_choice=False,  # the service refuses a choice this reflection does not have, in words
    )
    submit = SubmitField("Submit reflection", widget=GovSubmitInput())

    def offer(self, choices: list[Sharing], hints: dict[Sharing, str]) -> None:
        self.sharing.choices = [SelectChoice(choice.value, SHARING_LABELS[choice]) for choice in choices]
        self.hints = [hints[choice] for choice in choices]


class DeleteReflectionForm(FlaskForm):
    submit = SubmitField("Delete draft", widget=GovSubmitInput())
