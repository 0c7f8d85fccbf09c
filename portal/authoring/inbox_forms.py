"""Forms for the author's inbox (filters, themes, private notes) and for panel members' notes."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from portal.authoring.inbox import THEME_NAME_LENGTH
from portal.authoring.models import InboxSource, InboxStatus, Theme
from portal.forms import strip_whitespace

NOTE_MAX = 10_000
PANEL_NOTE_MAX = 20_000


class InboxFilterForm(FlaskForm):
    """The inbox's filters: a GET form, so it needs no CSRF token and works without JavaScript."""

    class Meta:
        csrf = False

    source = SelectField(
        "From",
        widget=GovSelect(),
        choices=[SelectChoice("", "Any source")] + [SelectChoice(source.value, source.label) for source in InboxSource],
        validate_choice=False,
    )
    status = SelectField(
        "Status",
        widget=GovSelect(),
        choices=[SelectChoice("", "Any status")] + [SelectChoice(status.value, status.label) for status in InboxStatus],
        validate_choice=False,
    )
    theme = SelectField("Theme", widget=GovSelect(), validate_choice=False)

    def offer_themes(self, themes: list[Theme]) -> None:
        self.theme.choices = [SelectChoice("", "Any theme")] + [SelectChoice(str(t.id), t.name) for t in themes]


class ThemeForm(FlaskForm):
    """Tag an item with one of the review's themes, or with a new one typed in."""

    theme = SelectField("Choose a theme", widget=GovSelect(), validate_choice=False)
    new_theme = StringField(
        "Or enter a new theme",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            Length(max=THEME_NAME_LENGTH, message=f"The theme's name must be {THEME_NAME_LENGTH} characters or fewer")
        ],
    )
    add = SubmitField("Add theme", widget=GovSubmitInput())

    def offer_themes(self, themes: list[Theme]) -> None:
        self.theme.choices = [SelectChoice("", "Choose a theme")] + [SelectChoice(str(t.id), t.name) for t in themes]

    def validate(self, extra_validators=None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.theme.data and self.new_theme.data:
            self.new_theme.errors = ["Choose a theme or enter a new one, not both"]
            return False
        if not self.theme.data and not self.new_theme.data:
            # With no theme to choose from, only the box for a new one is shown.
            shown = self.theme if len(self.theme.choices) > 1 else self.new_theme
            shown.errors = ["Choose a theme or enter a new one"]
            return False
        return True


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Add a private note",
        widget=GovTextArea(),
        description="Only you and the partnership's coordinators can see your notes.",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter your note"),
            Length(max=NOTE_MAX, message=f"Your note must be {NOTE_MAX:,} characters or fewer"),
        ],
    )
    save = SubmitField("Add note", widget=GovSubmitInput())


class PanelNoteForm(FlaskForm):
    text = TextAreaField(
        "Your note for the author",
        widget=GovTextArea(),
        description="Leave a blank line between paragraphs. Only the author and the partnership's coordinators will "
        "see it. You cannot change a note once it is sent.",
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter your note for the author"),
            Length(max=PANEL_NOTE_MAX, message=f"Your note must be {PANEL_NOTE_MAX:,} characters or fewer"),
        ],
    )
    send = SubmitField("Send to the author", widget=GovSubmitInput())
