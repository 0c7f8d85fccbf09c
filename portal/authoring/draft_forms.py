"""Forms for versions of the report: the title, a section, an uploaded document, and two versions to compare."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from govuk_frontend_wtf.wtforms_widgets import GovFileInput, GovSelect, GovSubmitInput, GovTextArea, GovTextInput
from wtforms import Form, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from portal.forms import strip_whitespace

# A 100-page report is about 300,000 characters; one section of it is a fraction of that.
SECTION_LENGTH = 300_000


def _title_field() -> StringField:
    return StringField(
        "Title of this version",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="For example, “Draft for the panel, March”.",
        validators=[
            DataRequired("Enter a title for this version"),
            Length(max=200, message="The title must be 200 characters or fewer"),
        ],
    )


class TitleForm(FlaskForm):
    title = _title_field()
    save_title = SubmitField("Save title", widget=GovSubmitInput())


class SectionForm(FlaskForm):
    heading = StringField(
        "Heading",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        validators=[
            DataRequired("Enter a heading for the section"),
            Length(max=200, message="The heading must be 200 characters or fewer"),
        ],
    )
    body = TextAreaField(
        "Text",
        widget=GovTextArea(),
        filters=[strip_whitespace],
        description="Leave a blank line between paragraphs. Pasted formatting is kept only for emphasis, "
        "lists, quotes and links.",
        validators=[Length(max=SECTION_LENGTH, message="The text must be 300,000 characters or fewer")],
    )
    save = SubmitField("Save section", widget=GovSubmitInput())


class UploadForm(FlaskForm):
    title = _title_field()
    file = FileField("The report as a PDF or Word document", widget=GovFileInput())
    upload = SubmitField("Upload", widget=GovSubmitInput())


class CompareForm(Form):
    """Two versions chosen in the address (``?older=&newer=``), so a comparison can be bookmarked."""

    older = SelectField(
        "Compare", widget=GovSelect(), coerce=int, validators=[InputRequired("Select a version to compare")]
    )
    newer = SelectField(
        "With", widget=GovSelect(), coerce=int, validators=[InputRequired("Select a version to compare it with")]
    )
    compare = SubmitField("Compare", widget=GovSubmitInput())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if valid and self.older.data == self.newer.data:
            self.newer.errors = [*self.newer.errors, "Select two different versions"]
            return False
        return valid
