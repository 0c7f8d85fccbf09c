"""Forms for practitioners: filtering the list of events, registering and giving up a place."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea
from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length

from portal.events.models import EventKind
from portal.forms import strip_whitespace


class EventFilterForm(FlaskForm):
    """The list's filter: a GET form, so it needs no CSRF token and a link to it can be shared."""

    class Meta:
        csrf = False

    kind = SelectField(
        "Type of event",
        widget=GovSelect(),
        choices=[SelectChoice("", "All types")] + [SelectChoice(kind.value, kind.label) for kind in EventKind],
        validate_choice=False,
    )
    # The choices (the next twelve months) depend on today, so the route fills them in.
    month = SelectField("Month", widget=GovSelect(), validate_choice=False)


class RegistrationForm(FlaskForm):
    access_needs = TextAreaField(
        "Access needs or reasonable adjustments (optional)",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="For example, a hearing loop, step-free access or dietary needs. Only the events team sees this.",
        validators=[Length(max=2000, message="Access needs must be 2,000 characters or fewer")],
    )
    submit = SubmitField("Register", widget=GovSubmitInput())


class CancelRegistrationForm(FlaskForm):
    """A form with nothing but its CSRF token: the page around it asks 'Are you sure…'."""

    submit = SubmitField("Yes, cancel", widget=GovSubmitInput())
