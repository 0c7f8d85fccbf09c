"""Coordinators' pages for the clocks: the partnership's closure days, and every open review's clocks."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length

from portal.db import get_session
from portal.forms import GovDateField, strip_whitespace
from portal.pagination import Pagination, requested_page
from portal.reviews import clocks
from portal.reviews.clocks import Clock, ClosureDayRefused, ReviewClocks, Status
from portal.reviews.models import ClosureDay
from portal.security.models import Role
from portal.security.permissions import requires
from portal.templating import long_date

bp = Blueprint("clocks", __name__)

CLOSURE_DAYS_PER_PAGE = 50
REVIEWS_PER_PAGE = 50


# Forms ---------------------------------------------------------------------------------------------


class ClosureDayForm(FlaskForm):
    closure_date = GovDateField(
        "Date of the closure day", what="the date of the closure day", description="For example, 24 12 2026"
    )
    description = StringField(
        "Description",
        widget=GovTextInput(),
        filters=[strip_whitespace],
        description="For example, office closed between Christmas and New Year",
        validators=[
            # DataRequired, not InputRequired: it looks at the stripped value, so spaces alone are refused.
            DataRequired("Enter a description of the closure day"),
            Length(max=200, message="Description must be 200 characters or fewer"),
        ],
    )
    submit = SubmitField("Add closure day", widget=GovSubmitInput())


class RemoveForm(FlaskForm):
    """Nothing but the CSRF token."""


# Closure days -------------------------------------------------------------------------------------


@bp.route("/closure-days", methods=["GET", "POST"])
@requires(Role.COORDINATOR)
def closure_days():
    db = get_session()
    today = clocks.london_today()
    form = ClosureDayForm()
    if form.validate_on_submit():
        try:
            closure = clocks.add_closure_day(
                db, form.closure_date.data, form.description.data, actor_id=current_user.id, today=today
            )
            db.commit()
        except ClosureDayRefused as refusal:
            db.rollback()
            form.closure_date.errors.append(str(refusal))
        except sa.exc.IntegrityError:
            # The same day added at the same moment from another browser.
            db.rollback()
            form.closure_date.errors.append(f"{long_date(form.closure_date.data)} is already a closure day")
        else:
            flash(f"{long_date(closure.day)} is now a closure day.", "success")
            return redirect(url_for("clocks.closure_days"))

    pagination = Pagination.of(
        db.scalar(sa.select(sa.func.count(ClosureDay.id))) or 0, CLOSURE_DAYS_PER_PAGE, requested_page()
    )
    # Upcoming days first, soonest first; then past days, most recent first.
    upcoming = ClosureDay.day >= today
    listed = db.scalars(
        sa.select(ClosureDay)
        .order_by(
            sa.case((upcoming, 0), else_=1),
            sa.case((upcoming, ClosureDay.day)).asc(),
            ClosureDay.day.desc(),
        )
        .limit(CLOSURE_DAYS_PER_PAGE)
        .offset((pagination.page - 1) * CLOSURE_DAYS_PER_PAGE)
    ).all()
    return render_template(
        "reviews/clocks/closure_days.html",
        form=form,
        closure_days=listed,
        pagination=pagination,
        today=today,
    )


@bp.route("/closure-days/<int:closure_id>/delete", methods=["POST"])
@requires(Role.COORDINATOR)
def delete_closure_day(closure_id: int):
    db = get_session()
    if not RemoveForm().validate_on_submit():
        abort(400)
    closure = db.get(ClosureDay, closure_id)
    if closure is None:
        abort(404)
    day = closure.day
    try:
        clocks.remove_closure_day(db, closure, actor_id=current_user.id, today=clocks.london_today())
        db.commit()
    except ClosureDayRefused as refusal:
        db.rollback()
        flash(str(refusal) + ".", "info")
    else:
        flash(f"{long_date(day)} is no longer a closure day.", "success")
    return redirect(url_for("clocks.closure_days"))


# The clocks of every open review --------------------------------------------------------------------

# The picture's geometry, in SVG user units; it scales to the width of the page.
WIDTH = 960
LABEL_WIDTH = 250
PLOT_LEFT, PLOT_RIGHT = 270, 940
AXIS_HEIGHT = 44
ROW_HEIGHT = 40
MIN_SPAN_DAYS = 56

# Each status has its own shape as well as its own colour, and the legend and table name it in words.
SHAPES = {
    Status.OVERDUE: "triangle",
    Status.DUE_SOON: "diamond",
    Status.ON_TRACK: "circle",
    Status.MET: "square",
}


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    clock: Clock

    @property
    def shape(self) -> str:
        return SHAPES[self.clock.status]

    @property
    def css(self) -> str:
        return self.clock.status.value.replace(" ", "-")

    @property
    def points(self) -> str:
        """Corner points for the triangle and diamond shapes."""
        x, y, r = self.x, self.y, 8
        if self.shape == "triangle":
            return f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r - 1:.1f} {x - r:.1f},{y + r - 1:.1f}"
        return f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"


@dataclass(frozen=True)
class TimelineRow:
    y: float
    label: str
    markers: list[Marker]


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    height: int
    first: date
    last: date
    today_x: float
    rows: list[TimelineRow]
    ticks: list[Tick]

    @property
    def width(self) -> int:
        return WIDTH


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_timeline(rows: list[ReviewClocks], today: date) -> Timeline:
    """Where everything goes in the picture: one row per review, a marker per clock, a line for today."""
    dates = [today] + [clock.due_on for row in rows for clock in row.clocks]
    first, last = min(dates) - timedelta(days=7), max(dates) + timedelta(days=7)
    if (last - first).days < MIN_SPAN_DAYS:
        last = first + timedelta(days=MIN_SPAN_DAYS)
    span = (last - first).days

    def x_of(day: date) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day - first).days / span

    timeline_rows = []
    for index, row in enumerate(rows):
        y = AXIS_HEIGHT + ROW_HEIGHT * index + ROW_HEIGHT / 2
        label = _shorten(f"{row.review.reference} {row.review.anonymised_name}")
        # Running clocks are drawn last, so they sit on top of any met clock due the same day.
        ordered = sorted(row.clocks, key=lambda clock: clock.is_running)
        timeline_rows.append(TimelineRow(y, label, [Marker(x_of(clock.due_on), y, clock) for clock in ordered]))

    # A tick on the first of each month, every month or fewer when the span is long.
    months = []
    month = date(first.year, first.month, 1)
    while month <= last:
        if month >= first:
            months.append(month)
        month = clocks.add_calendar_months(month, 1)
    step = max(1, math.ceil(len(months) / 12))
    ticks = [
        Tick(x_of(month), f"{month:%b}" + (f" {month.year}" if month.month == 1 or index == 0 else ""))
        for index, month in enumerate(months[::step])
    ]
    height = AXIS_HEIGHT + ROW_HEIGHT * max(len(rows), 1) + 12
    return Timeline(height, first, last, x_of(today), timeline_rows, ticks)


def _table_rows(rows: list[ReviewClocks]) -> list[tuple[ReviewClocks, Clock]]:
    """One row per clock: running clocks by due date, then met ones."""
    pairs = [(row, clock) for row in rows for clock in row.clocks]
    pairs.sort(key=lambda pair: (not pair[1].is_running, pair[1].due_on, pair[0].review.reference))
    return pairs


@bp.route("/reviews/clocks")
@requires(Role.COORDINATOR)
def overview():
    db = get_session()
    today = clocks.london_today()
    everything = clocks.open_review_clocks(db, current_app.config, today)
    pagination = Pagination.of(len(everything), REVIEWS_PER_PAGE, requested_page())
    start = (pagination.page - 1) * REVIEWS_PER_PAGE
    rows = everything[start : start + REVIEWS_PER_PAGE]
    counts = {status: sum(clock.status == status for row in rows for clock in row.clocks) for status in Status}
    return render_template(
        "reviews/clocks/overview.html",
        rows=rows,
        table_rows=_table_rows(rows),
        timeline=build_timeline(rows, today),
        counts=counts,
        today=today,
        pagination=pagination,
        Status=Status,
        shapes=SHAPES,
    )
