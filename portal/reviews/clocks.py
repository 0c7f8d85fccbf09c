"""The clocks a review runs against (TIMINGS.md): when each is due, how long is left, and whether it was met.

Every clock's length is a setting (``CLOCK_*`` in ``portal/config.py``). Clocks are worked out
afresh from what is recorded each time they are shown, so a closure day added today moves the due
date of every working-day clock whose span includes it. Agency returns are the exception: their due date is
fixed when the agency is asked (and told it), so it is stored with the request.

``clocks_for`` is pure: give it the records, the closure days, the settings and today's date. The
loaders further down fetch those records with a fixed number of queries.
"""

from __future__ import annotations

import calendar
import enum
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from portal.db import LONDON
from portal.reviews.models import AgencyReturnRequest, ClosureDay, RapidReview, Review, Stage, StageChange
from portal.security import audit
from portal.templating import long_date
from portal.working_days import add_working_days, bank_holiday_name, working_days_before, working_days_between

# The defaults in TIMINGS.md; the settings in portal/config.py start from the same numbers.
CLOCK_DEFAULTS = {
    "CLOCK_NOTIFY_WORKING_DAYS": 5,
    "CLOCK_RAPID_REVIEW_WORKING_DAYS": 15,
    "CLOCK_AGENCY_RETURN_WORKING_DAYS": 8,
    "CLOCK_CSPR_MONTHS": 6,
    "CLOCK_FINAL_REPORT_WORKING_DAYS": 7,
    "CLOCK_DUE_SOON_WORKING_DAYS": 3,
}

# Once a review reaches one of these stages its CSPR has been completed (and published, or not
# published for a recorded reason).
CSPR_DONE_STAGES = frozenset({Stage.PUBLISHED, Stage.NOT_PUBLISHED, Stage.ACTION_PLAN, Stage.CLOSED})


class Basis(enum.StrEnum):
    """How firm the rule behind a clock is."""

    STATUTORY = "statutory"
    EXPECTED = "expected"
    LOCAL_PRACTICE = "local practice"


class Status(enum.StrEnum):
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    OVERDUE = "overdue"
    MET = "met"


@dataclass(frozen=True)
class Clock:
    """One deadline of one review, and where it stands today."""

    key: str  # which clock: "notify", "rapid_review", "agency_return", "cspr"
    name: str
    rule: str  # the rule that produced the due date, where it comes from and how firm it is
    basis: Basis
    started_on: date
    due_on: date
    working_days_left: int | None  # working days from today to the due date; None for calendar clocks
    status: Status
    done_on: date | None = None

    @property
    def is_calendar(self) -> bool:
        return self.working_days_left is None

    @property
    def met_late(self) -> bool:
        return self.status == Status.MET and self.done_on is not None and self.done_on > self.due_on

    @property
    def is_running(self) -> bool:
        return self.status != Status.MET


def clock_length(config: Mapping, key: str) -> int:
    """A clock's length from the settings; a negative setting is treated as zero."""
    return max(0, int(config.get(key, CLOCK_DEFAULTS[key])))


def add_calendar_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day when it is shorter (31 August + 6 → 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def clock_status(
    due_on: date, today: date, *, done: bool, closures: Iterable[date], due_soon_days: int
) -> tuple[Status, int]:
    """The status and the working days left from ``today`` to ``due_on`` (negative once past)."""
    left = working_days_between(today, due_on, closures)
    if done:
        return Status.MET, left
    if today > due_on:
        return Status.OVERDUE, left
    if left <= due_soon_days:
        return Status.DUE_SOON, left
    return Status.ON_TRACK, left


def _days(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"


def clocks_for(
    review: Review,
    rapid_review: RapidReview | None,
    agency_requests: Sequence[AgencyReturnRequest],
    closures: Iterable[date],
    config: Mapping,
    today: date,
    *,
    published_on: date | None = None,
) -> list[Clock]:
    """The review's clocks from TIMINGS.md that have started, soonest due first.

    ``published_on`` is the day the review reached publication (or the decision not to publish),
    when known; it only fills in when the CSPR clock was met.
    """
    closures = frozenset(closures)
    due_soon = clock_length(config, "CLOCK_DUE_SOON_WORKING_DAYS")
    clocks: list[Clock] = []

    def add(key, name, rule, basis, started_on, due_on, done_on, *, done=None, calendar_clock=False):
        status, left = clock_status(
            due_on, today, done=done_on is not None if done is None else done, closures=closures, due_soon_days=due_soon
        )
        clocks.append(
            Clock(key, name, rule, basis, started_on, due_on, None if calendar_clock else left, status, done_on)
        )

    notify_days = clock_length(config, "CLOCK_NOTIFY_WORKING_DAYS")
    add(
        "notify",
        "Notification to the National Panel",
        f"{_days(notify_days)} from the day the local authority became aware of the incident. Statutory: "
        "Working Together to Safeguard Children 2023, as quoted in partnerships' procedures.",
        Basis.STATUTORY,
        review.aware_on,
        add_working_days(review.aware_on, notify_days, closures),
        rapid_review.notified_on if rapid_review else None,
    )

    if rapid_review is not None and rapid_review.notified_on is not None:
        rapid_days = clock_length(config, "CLOCK_RAPID_REVIEW_WORKING_DAYS")
        add(
            "rapid_review",
            "Rapid Review outcome sent to the Panel",
            f"{_days(rapid_days)} from the day the notification was sent to the Panel. Statutory: Panel guidance "
            "as quoted by partnerships, and the partnership's one-minute guide.",
            Basis.STATUTORY,
            rapid_review.notified_on,
            add_working_days(rapid_review.notified_on, rapid_days, closures),
            rapid_review.outcome_sent_on,
        )

    for request in agency_requests:
        # The due date was fixed and given to the agency when it was asked, so it is not recomputed.
        asked_for = working_days_between(request.requested_on, request.due_on, closures)
        add(
            "agency_return",
            f"Information return from {request.agency.name}",
            f"{_days(max(asked_for, 0))} from the day the agency was asked, as the agency was told then. "
            "Local practice: a partnership setting, not statute.",
            Basis.LOCAL_PRACTICE,
            request.requested_on,
            request.due_on,
            request.received_on,
        )

    if rapid_review is not None and rapid_review.decision_commission_cspr and rapid_review.decided_on is not None:
        months = clock_length(config, "CLOCK_CSPR_MONTHS")
        done = review.stage_enum in CSPR_DONE_STAGES
        add(
            "cspr",
            "CSPR completed and published",
            f"{months} calendar month{'' if months == 1 else 's'} from the Executive's decision to commission the "
            "review. Expected, not statutory: a widely cited expectation still to be confirmed against Working "
            "Together to Safeguard Children 2023.",
            Basis.EXPECTED,
            rapid_review.decided_on,
            add_calendar_months(rapid_review.decided_on, months),
            published_on if done else None,
            done=done,
            calendar_clock=True,
        )

    clocks.sort(key=lambda clock: (clock.due_on, clock.name))
    return clocks


def due_date_for_agency_return(requested_on: date, closures: Iterable[date], config: Mapping) -> date:
    """The day an agency's information return is due: the setting's working days after it was asked."""
    return add_working_days(requested_on, clock_length(config, "CLOCK_AGENCY_RETURN_WORKING_DAYS"), closures)


def final_report_latest_on(publication_on: date, closures: Iterable[date], config: Mapping) -> date:
    """The last working day the final report can go to the Panel and the Secretary of State.

    TIMINGS.md: at least N working days before publication (a warning to acknowledge, not a block).
    That is the latest working day with N working days after it up to and including publication.
    """
    return working_days_before(publication_on, clock_length(config, "CLOCK_FINAL_REPORT_WORKING_DAYS"), closures)


def london_today() -> date:
    """Today's date in England, whatever the server's time zone."""
    return datetime.now(LONDON).date()


# Loading ------------------------------------------------------------------------------------------


def closure_days(db: Session) -> frozenset[date]:
    """Every closure day the partnership has recorded."""
    return frozenset(db.scalars(sa.select(ClosureDay.day)))


def _published_on(changes: Iterable[StageChange]) -> dict[int, date]:
    found: dict[int, date] = {}
    for change in changes:
        found.setdefault(change.review_id, change.changed_at.astimezone(LONDON).date())
    return found


def _publication_changes(condition) -> sa.Select:
    return (
        sa.select(StageChange)
        .where(StageChange.to_stage.in_([Stage.PUBLISHED.value, Stage.NOT_PUBLISHED.value]), condition)
        .order_by(StageChange.id)
    )


def load_clocks(db: Session, review: Review, config: Mapping, today: date) -> list[Clock]:
    """One review's clocks, for its page."""
    requests = db.scalars(
        sa.select(AgencyReturnRequest)
        .where(AgencyReturnRequest.review_id == review.id)
        .options(selectinload(AgencyReturnRequest.agency))
        .order_by(AgencyReturnRequest.id)
    ).all()
    published = _published_on(db.scalars(_publication_changes(StageChange.review_id == review.id)))
    return clocks_for(
        review,
        review.rapid_review,
        requests,
        closure_days(db),
        config,
        today,
        published_on=published.get(review.id),
    )


@dataclass(frozen=True)
class ReviewClocks:
    review: Review
    clocks: list[Clock]

    @property
    def next_due_on(self) -> date | None:
        """The nearest due date of a clock still running, or None when every clock is met."""
        running = [clock.due_on for clock in self.clocks if clock.is_running]
        return min(running) if running else None


def open_review_clocks(db: Session, config: Mapping, today: date) -> list[ReviewClocks]:
    """Every open review (not closed) with its clocks, nearest running deadline first.

    A fixed number of queries whatever the number of reviews: the reviews with their Rapid Reviews,
    the agency requests with their agencies, the publication dates and the closure days.
    """
    is_open = Review.stage != Stage.CLOSED.value
    reviews = db.scalars(
        sa.select(Review).where(is_open).options(selectinload(Review.rapid_review)).order_by(Review.id)
    ).all()
    requests: dict[int, list[AgencyReturnRequest]] = defaultdict(list)
    for request in db.scalars(
        sa.select(AgencyReturnRequest)
        .join(Review, Review.id == AgencyReturnRequest.review_id)
        .where(is_open)
        .options(selectinload(AgencyReturnRequest.agency))
        .order_by(AgencyReturnRequest.id)
    ):
        requests[request.review_id].append(request)
    published = _published_on(
        db.scalars(_publication_changes(StageChange.review_id.in_(sa.select(Review.id).where(is_open))))
    )
    closures = closure_days(db)
    rows = [
        ReviewClocks(
            review,
            clocks_for(
                review,
                review.rapid_review,
                requests[review.id],
                closures,
                config,
                today,
                published_on=published.get(review.id),
            ),
        )
        for review in reviews
    ]
    # Reviews with a clock running come first, nearest deadline first; then those with every clock met.
    rows.sort(key=lambda row: (row.next_due_on is None, row.next_due_on or date.max, row.review.reference))
    return rows


# Closure days ---------------------------------------------------------------------------------------


class ClosureDayRefused(ValueError):
    """The closure day cannot be added or removed; the message says why, in plain English."""


def add_closure_day(db: Session, day: date, description: str, *, actor_id: int, today: date) -> ClosureDay:
    """Record a day the partnership is closed; every working-day clock from then on skips it."""
    # Closure days already past have counted (or not) in deadlines people were given; adding one
    # now would move those deadlines after the event.
    if day < today:
        raise ClosureDayRefused("The closure day must be today or in the future")
    if day.weekday() >= 5:
        raise ClosureDayRefused(f"{long_date(day)} is a {day:%A}, so it is already not a working day")
    holiday = bank_holiday_name(day)
    if holiday:
        raise ClosureDayRefused(f"{long_date(day)} is a bank holiday ({holiday}), so it is already not a working day")
    if db.scalar(sa.select(ClosureDay.id).where(ClosureDay.day == day)) is not None:
        raise ClosureDayRefused(f"{long_date(day)} is already a closure day")
    closure = ClosureDay(day=day, description=description, created_by_id=actor_id)
    db.add(closure)
    db.flush()
    audit.record(
        db,
        "closure_day.added",
        object_type="closure_day",
        object_id=closure.id,
        actor_id=actor_id,
        details={"day": day.isoformat(), "description": description},
    )
    return closure


def remove_closure_day(db: Session, closure: ClosureDay, *, actor_id: int, today: date) -> None:
    """Remove a closure day that has not yet passed: it becomes a working day again."""
    if closure.day < today:
        raise ClosureDayRefused(
            f"{long_date(closure.day)} has passed, so it stays a closure day: deadlines already counted it"
        )
    audit.record(
        db,
        "closure_day.removed",
        object_type="closure_day",
        object_id=closure.id,
        actor_id=actor_id,
        details={"day": closure.day.isoformat(), "description": closure.description},
    )
    db.delete(closure)
    db.flush()
