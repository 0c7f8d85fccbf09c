"""Form pieces shared by every capability: the GOV.UK date input.

``GovDateField`` asks for a date as three boxes (day, month, year), rendered with GOV.UK Frontend's
``govukDateInput``, and answers with the GOV.UK pattern's messages::

    aware_on = GovDateField(
        "When did the local authority become aware?",
        what="the date the local authority became aware",
        not_in_future=True,
    )

gives "Enter the date the local authority became aware", "The date the local authority became aware
must include a year", "Year must include 4 numbers" and "The date the local authority became aware
must be a real date". Only the boxes that are wrong are highlighted, and the error summary links to
the first of them.
"""

from __future__ import annotations

from datetime import date

from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field
from wtforms.validators import StopValidation

PARTS = ("day", "month", "year")


def strip_whitespace(value):
    """A WTForms filter: text fields keep no leading or trailing spaces."""
    return value.strip() if isinstance(value, str) else value


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


class GovDateWidget(GovDateInput):
    """Three boxes sharing the field's name; the day box carries the field's id so error links land on it."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        kwargs["value"] = None
        return super(GovDateInput, self).__call__(field, **kwargs)

    def map_gov_params(self, field, **kwargs):
        params = super(GovDateInput, self).map_gov_params(field, **kwargs)
        # The wrapper needs an id of its own: the field's id belongs to the first box.
        params["id"] = f"{field.id}-date"
        params.pop("label", None)
        params.pop("value", None)
        params.setdefault("fieldset", {"legend": {"text": field.label.text, "classes": field.legend_classes}})
        # A message with no particular box (a rule about the whole date) highlights all three.
        wrong = (field.error_parts or set(PARTS)) if field.errors else set()
        widths = {"day": "govuk-input--width-2", "month": "govuk-input--width-2", "year": "govuk-input--width-4"}
        ids = {"day": field.id, "month": f"{field.id}-month", "year": f"{field.id}-year"}
        # The first highlighted box takes the field's id, so the error summary's link focuses it.
        first_wrong = next((part for part in PARTS if part in wrong), None)
        if first_wrong and first_wrong != "day":
            ids["day"], ids[first_wrong] = f"{field.id}-day", field.id
        params.setdefault(
            "items",
            [
                {
                    "label": part.capitalize(),
                    "id": ids[part],
                    "name": field.name,
                    "classes": f"{widths[part]} govuk-input--error" if part in wrong else widths[part],
                    "value": value,
                    "inputmode": "numeric",
                    "autocomplete": f"bday-{part}" if field.autocomplete_birthday else None,
                }
                for part, value in zip(PARTS, field.parts(), strict=True)
            ],
        )
        return params


class GovDateField(Field):
    """A date entered as day, month and year, checked with GOV.UK's date input messages.

    ``what`` names the date in a sentence ("the date the local authority became aware").
    ``required=False`` lets all three boxes be left empty (the data is then ``None``).
    ``not_in_future`` / ``not_in_past`` refuse dates after / before today (``today`` can be given for tests).
    """

    widget = GovDateWidget()

    def __init__(
        self,
        label=None,
        validators=None,
        *,
        what: str,
        required: bool = True,
        not_in_future: bool = False,
        not_in_past: bool = False,
        today=date.today,
        legend_classes: str = "govuk-fieldset__legend--s",
        autocomplete_birthday: bool = False,
        **kwargs,
    ):
        super().__init__(label, validators, **kwargs)
        self.what = what
        self.required = required
        self.not_in_future = not_in_future
        self.not_in_past = not_in_past
        self.today = today
        self.legend_classes = legend_classes
        self.autocomplete_birthday = autocomplete_birthday
        self.error_parts: set[str] = set()
        self._entered: tuple[str, str, str] | None = None

    def parts(self) -> tuple[str, str, str]:
        """What to show in the three boxes: what was typed, else the stored date."""
        if self._entered is not None:
            return self._entered
        if isinstance(self.data, date):
            return (str(self.data.day), str(self.data.month), str(self.data.year))
        return ("", "", "")

    def process_formdata(self, valuelist):
        # Whatever arrives (missing boxes, extra boxes), keep exactly three so nothing typed is lost.
        values = [str(value).strip() for value in valuelist[:3]]
        values += [""] * (3 - len(values))
        self._entered = tuple(values)
        self.data = None

    def _value(self):
        return " ".join(self.parts())

    def pre_validate(self, form):
        self.error_parts = set()
        if self._entered is None:
            if self.data is None and self.required and self.raw_data is not None:
                raise StopValidation(f"Enter {self.what}")
            return
        day, month, year = self._entered
        given = {part: value for part, value in zip(PARTS, self._entered, strict=True) if value}
        if not given:
            if self.required:
                self.error_parts = set(PARTS)
                raise StopValidation(f"Enter {self.what}")
            return
        missing = [part for part in PARTS if part not in given]
        if missing:
            self.error_parts = set(missing)
            raise StopValidation(f"{_sentence(self.what)} must include a {' and '.join(missing)}")
        # ASCII digits only ("²" is a digit to Python), and no more of them than the box can mean.
        wrong = {
            part
            for part, value in given.items()
            if not (value.isascii() and value.isdigit()) or len(value) > (4 if part == "year" else 2)
        }
        if not wrong and len(year) != 4:
            self.error_parts = {"year"}
            raise StopValidation("Year must include 4 numbers")
        if wrong:
            self.error_parts = wrong
            raise StopValidation(f"{_sentence(self.what)} must be a real date")
        try:
            entered = date(int(year), int(month), int(day))
        except ValueError:
            self.error_parts = {"day"} if 1 <= int(month) <= 12 else {"month"}
            raise StopValidation(f"{_sentence(self.what)} must be a real date") from None
        today = self.today()
        if self.not_in_future and entered > today:
            self.error_parts = set(PARTS)
            raise StopValidation(f"{_sentence(self.what)} must be today or in the past")
        if self.not_in_past and entered < today:
            self.error_parts = set(PARTS)
            raise StopValidation(f"{_sentence(self.what)} must be today or in the future")
        self.data = entered
