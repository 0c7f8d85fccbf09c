"""Command-line tasks: ``flask db …``, ``users create``, ``demo seed``, ``audit verify``, ``notifications work``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta

import click
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from email_validator import EmailNotValidError, validate_email
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.authoring import anonymisation
from portal.authoring import drafts as draft_services
from portal.authoring import requests as request_services
from portal.authoring.models import ContributionRequest, Draft, ProtectedTerm, TermCategory
from portal.config import PROJECT_ROOT
from portal.consent import ledger
from portal.consent.models import ConsentChannel, ConsentScope
from portal.db import LONDON, get_session
from portal.events import services as event_services
from portal.events.models import Attendance, Audience, Event, EventKind, Mode, Registration, RegistrationStatus
from portal.families import services as family_services
from portal.families.models import FamilyMember, PreferredChannel
from portal.learning import services as learning_services
from portal.learning.models import LearningPoint
from portal.notifications import worker
from portal.notifications.senders import sender_for
from portal.reviews import memberships as membership_services
from portal.reviews import services as review_services
from portal.reviews.models import (
    AgencyReturnRequest,
    Membership,
    MembershipKind,
    RapidReview,
    Reg11Criterion,
    Review,
    Stage,
)
from portal.security import audit, services
from portal.security.models import Role
from portal.security.passwords import verify_password
from portal.security.sessions import prune_sessions
from portal.working_days import add_working_days

DEMO_PASSWORD = "demo-safeguarding-2026"  # noqa: S105 (documented in the README; development only)
DEMO_PEOPLE = [
    # role, email, name, agency
    (Role.COORDINATOR, "coordinator@demo.example.org", "Carys Morgan", "Northshire Safeguarding Partnership"),
    (Role.PRACTITIONER, "health.visitor@demo.example.org", "Priya Shah", "Northshire NHS Foundation Trust"),
    (Role.PRACTITIONER, "social.worker@demo.example.org", "Tom Okafor", "Northshire Council Children's Services"),
    (Role.AUTHOR, "author@demo.example.org", "Dr Ruth Adeyemi", None),
    (Role.FAMILY, "parent@demo.example.org", "Jo Bennett", None),
    (Role.FAMILY, "grandparent@demo.example.org", "Pat Bennett", None),
]


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["bind"] = get_session().get_bind()
    return config


def register_commands(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(notifications_cli)


@click.group("db", cls=AppGroup, help="Database migrations.")
def db_cli() -> None:
    pass


@db_cli.command("upgrade", help="Upgrade the database to the latest (or a given) revision.")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    command.upgrade(alembic_config(), revision)
    _say_revision()


@db_cli.command("downgrade", help="Downgrade the database to a given revision ('base' removes everything).")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    command.downgrade(alembic_config(), revision)
    _say_revision()


def _say_revision() -> None:
    # Alembic logs nothing without a logging set-up, so say where the database ended up: an operator
    # running a deployment step should not have to guess whether it did anything.
    current = MigrationContext.configure(get_session().connection()).get_current_revision()
    click.echo(f"The database is at revision {current}." if current else "The database has no tables of ours.")


@db_cli.command("current", help="Show the database's revision.")
def db_current() -> None:
    command.current(alembic_config())


@db_cli.command("revision", help="Write a new migration from the difference between models and database.")
@click.option("-m", "--message", required=True)
def db_revision(message: str) -> None:
    command.revision(alembic_config(), message=message, autogenerate=True)


@click.group("users", cls=AppGroup, help="People who use the portal.")
def users_cli() -> None:
    pass


@users_cli.command(
    "create", help="Register a person. They set a password through the reset link, or use single sign-on."
)
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]))
@click.option("--agency", default=None, help="The agency's name; created if new.")
def users_create(email: str, name: str, role: str, agency: str | None) -> None:
    try:
        validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise click.ClickException(f"{email!r} is not a usable email address: {error}") from None
    if not name.strip():
        raise click.ClickException("Give the person's name with --name.")
    db = get_session()
    agency_record = services.get_or_create_agency(db, agency) if agency else None
    try:
        user = services.create_user(db, email=email, name=name, role=Role(role), agency=agency_record)
    except services.UserExists:
        raise click.ClickException(f"Someone already has the email address {email.strip().lower()}.") from None
    db.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")
    click.echo(f"They can choose a password at {current_app.config['PUBLIC_URL']}/password-reset")


@click.group("demo", cls=AppGroup, help="Demonstration data for development.")
def demo_cli() -> None:
    pass


@demo_cli.command("seed", help="Create what is missing of the demo and (re)set the demo accounts' password.")
@click.option("--password", default=DEMO_PASSWORD, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the accounts as JSON for scripts.")
def demo_seed(password: str, as_json: bool) -> None:
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("The demo cannot be seeded in production.")
    db = get_session()
    accounts = []
    people = {}
    for role, email, name, agency_name in DEMO_PEOPLE:
        user = services.find_user_by_email(db, email)
        agency = services.get_or_create_agency(db, agency_name) if agency_name else None
        if user is None:
            user = services.create_user(db, email=email, name=name, role=role, agency=agency, password=password)
        elif not verify_password(user.password_hash, password):
            services.set_password(db, user, password)
        # Demo family members use an authenticator app, so a script can sign them in on any new device.
        if (role.needs_two_factor or role == Role.FAMILY) and not user.totp_secret:
            user.totp_secret = services.new_totp_secret()
            audit.record(db, "two_factor.set_up", object_type="user", object_id=user.id, details={"by": "demo seed"})
        accounts.append({"role": user.role, "email": user.email, "password": password, "totp_secret": user.totp_secret})
        people[email] = user
    db.flush()
    review_created = _seed_demo_review(db, people)
    authors_work_added = _seed_demo_authors_work(db, people)
    events_created = _seed_demo_events(db, people)
    db.commit()
    if as_json:
        click.echo(json.dumps(accounts, indent=2))
        return
    if review_created:
        click.echo(f"Created the demo review {DEMO_REVIEW_REFERENCE} ({DEMO_REVIEW_NAME}).")
    if authors_work_added:
        click.echo(f"Added the author's work to {DEMO_REVIEW_REFERENCE}: {', '.join(authors_work_added)}.")
    if events_created:
        click.echo(f"Created {events_created} demo learning events.")
    click.echo("Demo accounts (development only):")
    for account in accounts:
        line = f"  {account['role']:<13} {account['email']:<34} password: {account['password']}"
        if account["totp_secret"]:
            line += f"  authenticator secret: {account['totp_secret']}"
        click.echo(line)


DEMO_REVIEW_REFERENCE = "LSCP-2026-004"
DEMO_REVIEW_NAME = "Child H"


DEMO_FAMILY = {
    "parent@demo.example.org": {
        "relationship_to_child": "Mother",
        "preferred_channel": PreferredChannel.EMAIL.value,
        "support_needs": "Prefers calls after 10am; supported by a family liaison worker.",
    },
    "grandparent@demo.example.org": {
        "relationship_to_child": "Grandmother",
        "preferred_channel": PreferredChannel.LETTER.value,
        "postal_address": "12 Orchard Lane, Northshire",
        "letter_worker": "Sam Reid, family liaison worker",
    },
}


def _seed_demo_review(db, people: dict) -> bool:
    """One review part-way through its CSPR, with a member of every kind; False when it is already there."""
    if db.scalar(sa.select(Review.id).where(Review.reference == DEMO_REVIEW_REFERENCE)) is not None:
        return False
    coordinator = people["coordinator@demo.example.org"]
    aware_on = date.today() - timedelta(days=60)
    notified_on = add_working_days(aware_on, 3)
    review = review_services.record_incident(
        db,
        coordinator,
        DEMO_REVIEW_REFERENCE,
        DEMO_REVIEW_NAME,
        aware_on,
        "Infant admitted to hospital with unexplained injuries (demo data)",
    )
    record = RapidReview(
        review_id=review.id,
        rag_notify_recommended_on=add_working_days(aware_on, 2),
        rag_notify_recommended_by="Review Advisory Group",
        notified_on=notified_on,
        notified_by="Director of Children's Services",
    )
    db.add(record)
    db.flush()
    lead = membership_services.appoint(
        db, review, people["health.visitor@demo.example.org"], MembershipKind.AGENCY_LEAD, coordinator
    )
    db.add(
        AgencyReturnRequest(
            review_id=review.id,
            agency_id=lead.agency_id,
            lead_membership_id=lead.id,
            requested_on=notified_on,
            due_on=add_working_days(notified_on, 8),
            received_on=add_working_days(notified_on, 7),
            requested_by_id=coordinator.id,
        )
    )
    review_services.move_review(db, review, Stage.NOTIFIED, "Panel notified by the local authority", coordinator)
    review_services.move_review(db, review, Stage.RAPID_REVIEW, "Agency returns requested", coordinator)
    record.rag_meeting_on = add_working_days(notified_on, 10)
    record.rag_meeting_notes = "Returns from health and children's services discussed."
    record.cspr_recommended_on = record.rag_meeting_on
    record.cspr_recommended = True
    record.cspr_recommendation_reasons = "Information was not shared between agencies before the injuries."
    record.reg11_criteria = ",".join([Reg11Criterion.IMPROVEMENTS_NEEDED, Reg11Criterion.AGENCIES_WORKING_TOGETHER])
    record.decided_on = add_working_days(notified_on, 12)
    record.decided_by = "LSCP Executive"
    record.decision_commission_cspr = True
    record.decision_reason = "A local review would bring learning about agencies working together."
    record.outcome_sent_on = add_working_days(notified_on, 13)
    db.flush()
    audit.record(
        db,
        "rapid_review.recorded",
        object_type="rapid_review",
        object_id=record.id,
        review_id=review.id,
        actor_id=coordinator.id,
        details={"by": "demo seed"},
    )
    review_services.move_review(db, review, Stage.CSPR_COMMISSIONED, "The Executive commissioned a CSPR", coordinator)
    author = membership_services.appoint(
        db, review, people["author@demo.example.org"], MembershipKind.AUTHOR, coordinator
    )
    membership_services.declare_independence(db, author, True, True, "No involvement with the case or agencies.")
    for email, kind in (
        ("social.worker@demo.example.org", MembershipKind.PRACTITIONER),
        ("parent@demo.example.org", MembershipKind.FAMILY),
        ("grandparent@demo.example.org", MembershipKind.FAMILY),
    ):
        membership = membership_services.appoint(db, review, people[email], kind, coordinator)
        if email in DEMO_FAMILY:
            db.add(FamilyMember(membership_id=membership.id, **DEMO_FAMILY[email]))
    # The grandmother told her family liaison worker she wants letters: an update to the family
    # becomes a letter for Sam Reid to print and give her.
    for scope, channel in ((ConsentScope.UPDATES, ConsentChannel.LETTER), (ConsentScope.SEE_DRAFT, None)):
        ledger.record_choice(
            db,
            person=people["grandparent@demo.example.org"],
            review_id=review.id,
            scope=scope,
            channel=channel,
            given=True,
            text_version=family_services.CONVERSATION,
            recorded_by=coordinator,
        )
    review_services.move_review(db, review, Stage.CSPR_IN_PROGRESS, "Author and panel appointed", coordinator)
    _date_the_demo_story(db, review, aware_on, notified_on, record.decided_on)
    return True


# The child's real first name, protected in the demo review. No other seeded text may hold it: the
# demo's draft must pass the anonymisation check as it stands.
DEMO_CHILD_FIRST_NAME = "Harry"
DEMO_REQUEST_PROMPT = (
    "What did your service know about the family in the six months before the admission, "
    "and what did you share with children's social care?"
)
DEMO_REQUEST_ANSWER = (
    "The health visiting team made four home visits in those six months.\n\n"
    "At the third visit the health visitor saw a small bruise on the baby's cheek and discussed it with "
    "the named nurse for safeguarding. The explanation given was thought plausible, so no referral was made "
    "to children's social care."
)
DEMO_DRAFT_SECTIONS = {
    "Introduction": "This review looks at how agencies worked together for Child H, a baby admitted to "
    "hospital with injuries that could not be explained. The LSCP Executive commissioned it as a local "
    "child safeguarding practice review.",
    "The child and family": "Child H lived at home with a parent and saw a grandparent most weeks. "
    "The family was known to health services through routine health visiting.",
    "Practice episodes": "Three episodes are considered: the home visits in the months before the "
    "admission, the assessment on admission to hospital, and the first strategy discussion.",
    "Findings": "One agency knew of an earlier bruise and the others did not. Without a shared "
    "chronology, no practitioner could see the pattern.",
    "Recommendations": "The partnership should agree how a bruise on a baby who is not yet mobile is "
    "shared between agencies, and check within a year that the agreement is followed.",
}
DEMO_LEARNING_POINT = (
    "A bruise on a baby who is not yet mobile is shared with children's social care, whatever explanation is given."
)
DEMO_ACTION = (
    "Refresh the health visiting team's training on bruising in babies who are not yet mobile, "
    "then audit the referrals made in the following three months."
)
DEMO_ACTION_LEAD = "Named nurse for safeguarding children"


def _seed_demo_authors_work(db, people: dict) -> list[str]:
    """What the author has done so far, each piece added only when missing; what was added, for the operator.

    Everything goes through the same services as the author's pages, so the demo has the audit trail,
    messages and version numbers the pages would have made.
    """
    review = db.scalar(sa.select(Review).where(Review.reference == DEMO_REVIEW_REFERENCE))
    author = people["author@demo.example.org"]
    health_visitor = people["health.visitor@demo.example.org"]
    steps = (
        ("an answered contribution request", lambda: _seed_demo_request(db, review, author, health_visitor)),
        ("a protected term", lambda: _seed_demo_protected_term(db, review, author)),
        ("draft version 1", lambda: _seed_demo_draft(db, review, author)),
        ("a learning point with an action", lambda: _seed_demo_learning(db, review, author, health_visitor)),
    )
    return [piece for piece, add in steps if add()]


def _seed_demo_request(db, review: Review, author, health_visitor) -> bool:
    """The author asks the health visitor, who answers in text and sends it; False when she was already asked."""
    asked = sa.select(ContributionRequest.id).where(
        ContributionRequest.review_id == review.id, ContributionRequest.recipient_id == health_visitor.id
    )
    if db.scalar(asked) is not None:
        return False
    lead = db.scalar(
        sa.select(Membership).where(
            Membership.review_id == review.id,
            Membership.user_id == health_visitor.id,
            Membership.kind == MembershipKind.AGENCY_LEAD.value,
            Membership.ended_at.is_(None),
        )
    )
    (request,) = request_services.ask(
        db,
        review,
        [lead.id],
        prompt=DEMO_REQUEST_PROMPT,
        guidance=None,
        working_days=request_services.DEFAULT_WORKING_DAYS,
        actor=author,
    )
    request_services.save_answer(db, request, text=DEMO_REQUEST_ANSWER, by=health_visitor)
    request_services.send_answer(db, request, by=health_visitor)
    return True


def _seed_demo_protected_term(db, review: Review, author) -> bool:
    protected = sa.select(ProtectedTerm.id).where(
        ProtectedTerm.review_id == review.id, sa.func.lower(ProtectedTerm.term) == DEMO_CHILD_FIRST_NAME.lower()
    )
    if db.scalar(protected) is not None:
        return False
    anonymisation.add_term(db, review, DEMO_CHILD_FIRST_NAME, TermCategory.CHILD_NAME, author)
    return True


def _seed_demo_draft(db, review: Review, author) -> bool:
    """Version 1 written in the portal under the suggested headings; False when the review has any version."""
    if db.scalar(sa.select(Draft.id).where(Draft.review_id == review.id)) is not None:
        return False
    draft = draft_services.create_written_draft(db, review.id, by=author)
    for section in list(draft.sections):
        draft_services.change_section(
            db, draft, section, heading=section.heading, body=DEMO_DRAFT_SECTIONS[section.heading], by=author
        )
    return True


def _seed_demo_learning(db, review: Review, author, health_visitor) -> bool:
    """One learning point whose action the health visitor's agency owns, due in a few months."""
    if db.scalar(sa.select(LearningPoint.id).where(LearningPoint.review_id == review.id)) is not None:
        return False
    point = learning_services.add_learning_point(db, review, DEMO_LEARNING_POINT, by=author)
    details = learning_services.ActionDetails(
        description=DEMO_ACTION,
        agency_id=health_visitor.agency_id,
        lead_name=DEMO_ACTION_LEAD,
        due_on=learning_services.today() + timedelta(days=120),
    )
    learning_services.add_action(db, point, details, by=author)
    return True


def _date_the_demo_story(db, review: Review, aware_on: date, notified_on: date, decided_on: date) -> None:
    """Give the demo's moves and appointments the dates of its story, so its timeline reads in order.

    The seed makes them all now; the audit trail keeps the true time, the demo shows the story's.
    """
    appointed_on = add_working_days(decided_on, 5)
    on_day = {
        Stage.INCIDENT_RECORDED: aware_on,
        Stage.NOTIFIED: notified_on,
        Stage.RAPID_REVIEW: notified_on,
        Stage.CSPR_COMMISSIONED: decided_on,
        Stage.CSPR_IN_PROGRESS: appointed_on,
    }

    def at_ten(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=UTC)

    for change in review.stage_changes:
        change.changed_at = at_ten(on_day[Stage(change.to_stage)])
    for membership in review.memberships:
        membership.started_at = at_ten(notified_on if membership.kind == MembershipKind.AGENCY_LEAD else appointed_on)
        if membership.declaration is not None:
            membership.declaration.declared_at = membership.started_at
    db.flush()


def _seed_demo_events(db, people: dict) -> int:
    """A practitioner event for the demo review, a briefing, a training day and one that has happened."""
    coordinator = people["coordinator@demo.example.org"]
    review = db.scalar(sa.select(Review).where(Review.reference == DEMO_REVIEW_REFERENCE))
    london_today = datetime.now(LONDON).date()

    def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(london_today + timedelta(days=day_offset), time(hour, minute), tzinfo=LONDON)

    def window(starts: datetime) -> dict:
        return {"registration_opens_at": at(-30, 0), "registration_closes_at": starts - timedelta(hours=1)}

    demo_events = [
        dict(
            title=f"Practitioner learning event: {DEMO_REVIEW_NAME}",
            summary_html="<p>A facilitated session for practitioners who worked with the family, to reflect on "
            "what happened and what would help next time. Please bring your own notes; nothing is recorded.</p>",
            kind=EventKind.PRACTITIONER_EVENT.value,
            audience=Audience.REVIEW_MEMBERS.value,
            review_id=review.id,
            starts_at=at(21, 9, 30),
            ends_at=at(21, 13),
            mode=Mode.IN_PERSON.value,
            venue="Room 2, Northshire Council Offices, Market Street",
            accessibility="Step-free access from the car park; hearing loop; quiet room available.",
            capacity=12,
        ),
        dict(
            title="Learning briefing: sharing information between agencies",
            summary_html="<p>Forty-five minutes on what recent reviews found about information sharing, and the "
            "new multi-agency protocol.</p>",
            kind=EventKind.BRIEFING.value,
            starts_at=at(10, 12, 30),
            ends_at=at(10, 13, 15),
            mode=Mode.ONLINE.value,
            joining_link="https://meet.example.org/northshire-briefing",
            capacity=60,
        ),
        dict(
            title="Training: recognising injuries in babies who are not yet mobile",
            summary_html="<p>A half-day course for health, early years and social care staff.</p>",
            kind=EventKind.TRAINING.value,
            starts_at=at(35, 9, 30),
            ends_at=at(35, 12, 30),
            mode=Mode.IN_PERSON.value,
            venue="Northshire Learning Centre, Station Road",
            accessibility="Step-free access; accessible toilets.",
            capacity=2,
        ),
    ]
    created = 0
    for fields in demo_events:
        if db.scalar(sa.select(Event.id).where(Event.title == fields["title"])) is not None:
            continue
        event = event_services.create_event(db, actor=coordinator, **fields, **window(fields["starts_at"]))
        event_services.publish_event(db, event.id, actor=coordinator)
        if fields["kind"] == EventKind.BRIEFING.value:
            event_services.register_for_event(db, event.id, people["social.worker@demo.example.org"])
        created += 1
    past_title = "Training: the voice of the child in assessments"
    if db.scalar(sa.select(Event.id).where(Event.title == past_title)) is None:
        starts = at(-14, 9, 30)
        event = event_services.create_event(
            db,
            actor=coordinator,
            title=past_title,
            summary_html="<p>How to make sure the child's own experience is heard and recorded.</p>",
            kind=EventKind.TRAINING.value,
            starts_at=starts,
            ends_at=at(-14, 16),
            mode=Mode.IN_PERSON.value,
            venue="Northshire Learning Centre, Station Road",
            capacity=20,
            registration_opens_at=at(-60, 0),
            registration_closes_at=starts - timedelta(days=1),
        )
        event_services.publish_event(db, event.id, actor=coordinator)
        # It has already happened, so the register is filled in as it was on the day.
        for number, email in enumerate(("social.worker@demo.example.org", "health.visitor@demo.example.org"), 1):
            db.add(
                Registration(
                    event_id=event.id,
                    user_id=people[email].id,
                    status=RegistrationStatus.CONFIRMED.value,
                    queue_number=number,
                    registered_at=at(-30, 10),
                    confirmed_at=at(-30, 10),
                    attendance=Attendance.ATTENDED.value,
                    attendance_recorded_at=starts,
                    attendance_recorded_by_id=coordinator.id,
                )
            )
        created += 1
    db.flush()
    return created


@click.group("audit", cls=AppGroup, help="The audit trail.")
def audit_cli() -> None:
    pass


@audit_cli.command("verify", help="Check the audit trail's hash chain and name the first row that does not fit.")
def audit_verify() -> None:
    report = audit.verify_chain(get_session())
    if report.ok:
        click.echo(f"Audit trail intact: {report.rows_checked} rows checked.")
        click.echo(
            f"Newest row's hash: {report.last_hash}. Keep it outside the portal: if a later check ends on "
            "an earlier hash, the newest rows have been removed."
        )
        return
    click.echo(
        f"Audit trail broken at row {report.first_bad_id}: {report.problem}. "
        f"{report.rows_checked} rows before it are intact.",
        err=True,
    )
    sys.exit(1)


@click.group("sessions", cls=AppGroup, help="Browser sessions.")
def sessions_cli() -> None:
    pass


@sessions_cli.command("prune", help="Delete session records that ended or expired more than --days ago.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(min=1))
def sessions_prune(days: int) -> None:
    # Every visitor who opens a form gets a session record; without pruning the table only grows.
    removed = prune_sessions(get_session(), timedelta(days=days))
    get_session().commit()
    click.echo(f"Removed {removed} session records older than {days} days.")


@click.group("notifications", cls=AppGroup, help="The notifications outbox.")
def notifications_cli() -> None:
    pass


@notifications_cli.command("work", help="Send what is in the outbox, then keep watching it (until stopped).")
@click.option("--once", is_flag=True, help="Send everything that is due now, then stop.")
def notifications_work(once: bool) -> None:
    config = current_app.config
    click.echo(f"Sending notifications by {config['MAIL_BACKEND']}" + ("" if once else "; stop with Ctrl+C"))
    try:
        worker.work(current_app.extensions["portal.db"], sender_for(config), config, once=once)
    except KeyboardInterrupt:
        click.echo("Stopped.")
