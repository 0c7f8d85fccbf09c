"""Registering, joining the waiting list and cancelling through the pages, with the emails that follow."""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar

from portal.db import utcnow
from portal.events import queries
from portal.events.models import Registration, RegistrationStatus
from tests.conftest import csrf_token, sign_in, submit, text_of
from tests.factories import make_event, make_user, take_place


def registration_of(db, event, user) -> Registration | None:
    db.expire_all()
    return db.query(Registration).filter_by(event_id=event.id, user_id=user.id).one_or_none()


def calendar_of(message) -> Calendar:
    parts = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert parts, f"no calendar invitation in {message['Subject']!r}"
    return Calendar.from_ical(parts[0].get_payload(decode=True))


def calendar_in(message):
    return calendar_of(message).walk("VEVENT")[0]


def test_registering_confirms_a_place_and_emails_a_calendar_invitation(client, db, coordinator, mailbox):
    event = make_event(db, coordinator=coordinator, title="Learning from Child H", capacity=2)
    practitioner = make_user(db)
    sign_in(client, practitioner)

    form = client.get(f"/events/{event.id}/register")
    assert form.status_code == 200
    assert "Only the events team sees this" in text_of(form.text)
    response = submit(client, f"/events/{event.id}/register", {"access_needs": "  A hearing loop, please  "})

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/events/{event.id}")
    page = client.get(response.headers["Location"])
    assert "Your place is confirmed" in text_of(page.text)
    registration = registration_of(db, event, practitioner)
    assert registration.status == RegistrationStatus.CONFIRMED.value
    assert registration.access_needs == "A hearing loop, please"
    # Access needs are for the events team: the practitioner's own pages do not repeat them.
    assert "hearing loop" not in page.text

    message = mailbox.last_to(practitioner.email)
    assert message["Subject"] == "Your place is confirmed: Learning from Child H"
    entry = calendar_in(message)
    assert str(entry["UID"]) == event.uid
    assert int(entry["SEQUENCE"]) == 1


def test_a_full_event_puts_the_person_on_the_waiting_list(client, db, coordinator, mailbox):
    event = make_event(db, coordinator=coordinator, capacity=1)
    take_place(db, event, make_user(db))
    take_place(db, event, make_user(db), RegistrationStatus.WAITING)
    practitioner = make_user(db)
    sign_in(client, practitioner)

    form = client.get(f"/events/{event.id}/register")
    assert "This event is full" in text_of(form.text)
    response = submit(client, f"/events/{event.id}/register", {})

    page = client.get(response.headers["Location"])
    assert "You are number 2 on the waiting list" in text_of(page.text)
    assert registration_of(db, event, practitioner).status == RegistrationStatus.WAITING.value
    assert mailbox.last_to(practitioner.email)["Subject"].startswith("You are on the waiting list")


def test_registering_again_only_shows_where_the_person_stands(client, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    practitioner = make_user(db)
    take_place(db, event, practitioner)
    sign_in(client, practitioner)

    again = client.get(f"/events/{event.id}/register", follow_redirects=True)

    assert "Your place is confirmed" in text_of(again.text)
    assert db.query(Registration).filter_by(event_id=event.id).count() == 1


def test_cancelling_a_place_promotes_the_first_colleague_waiting(client, app, db, coordinator, mailbox):
    event = make_event(db, coordinator=coordinator, title="Neglect briefing", capacity=1)
    practitioner, first_waiting, second_waiting = make_user(db), make_user(db), make_user(db)
    sign_in(client, practitioner)
    submit(client, f"/events/{event.id}/register", {})
    for colleague in (first_waiting, second_waiting):
        other = app.test_client()
        sign_in(other, colleague)
        submit(other, f"/events/{event.id}/register", {})
    mailbox.received()

    confirm = client.get(f"/events/{event.id}/cancel-registration")
    assert "Are you sure you want to cancel your place?" in text_of(confirm.text)
    response = submit(client, f"/events/{event.id}/cancel-registration", {})

    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    assert "Your place has been cancelled" in text_of(page.text)
    assert f'href="/events/{event.id}/register"' in page.text  # they may register again
    assert registration_of(db, event, practitioner).status == RegistrationStatus.CANCELLED.value
    assert registration_of(db, event, first_waiting).status == RegistrationStatus.CONFIRMED.value
    assert registration_of(db, event, second_waiting).status == RegistrationStatus.WAITING.value

    cancelled = mailbox.last_to(practitioner.email)
    assert cancelled["Subject"] == "Your place is cancelled: Neglect briefing"
    assert str(calendar_of(cancelled)["METHOD"]) == "CANCEL"
    assert str(calendar_in(cancelled)["UID"]) == event.uid
    promoted = mailbox.last_to(first_waiting.email)
    assert promoted["Subject"] == "A place has come up for you: Neglect briefing"
    assert str(calendar_in(promoted)["UID"]) == event.uid

    colleague = app.test_client()
    sign_in(colleague, second_waiting)
    assert "You are number 1 on the waiting list." in text_of(colleague.get(f"/events/{event.id}").text)


def test_leaving_the_waiting_list(client, db, coordinator):
    event = make_event(db, coordinator=coordinator, capacity=1)
    take_place(db, event, make_user(db))
    practitioner = make_user(db)
    take_place(db, event, practitioner, RegistrationStatus.WAITING)
    sign_in(client, practitioner)

    confirm = client.get(f"/events/{event.id}/cancel-registration")
    assert "Are you sure you want to leave the waiting list?" in text_of(confirm.text)
    response = submit(client, f"/events/{event.id}/cancel-registration", {}, follow_redirects=True)

    assert "You have left the waiting list" in text_of(response.text)
    assert registration_of(db, event, practitioner).status == RegistrationStatus.CANCELLED.value
    # Nothing left to cancel.
    assert client.get(f"/events/{event.id}/cancel-registration").status_code == 404


def test_cancelling_needs_the_forms_token(client, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    practitioner = make_user(db)
    take_place(db, event, practitioner)
    sign_in(client, practitioner)

    response = client.post(f"/events/{event.id}/cancel-registration", data={})

    assert response.status_code in {200, 400}
    assert registration_of(db, event, practitioner).status == RegistrationStatus.CONFIRMED.value


def test_registration_refused_by_the_rules_is_explained_not_an_error(client, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    practitioner = make_user(db)
    sign_in(client, practitioner)
    page = client.get(f"/events/{event.id}/register")
    # Registration closes while the form is open.
    event.registration_closes_at = utcnow() - timedelta(minutes=1)
    db.commit()

    response = client.post(f"/events/{event.id}/register", data={"csrf_token": csrf_token(page.text)})

    assert response.status_code == 200
    assert "Registration for this event has closed." in text_of(response.text)
    assert registration_of(db, event, practitioner) is None


def test_the_service_refusal_is_shown_when_the_rules_change_under_the_page(client, db, coordinator, monkeypatch):
    event = make_event(db, coordinator=coordinator)
    practitioner = make_user(db)
    sign_in(client, practitioner)
    # The page thinks registration is open; the service, deciding under the event's lock, does not.
    event.registration_closes_at = utcnow() - timedelta(minutes=1)
    db.commit()
    monkeypatch.setattr(queries, "registration_closed_reason", lambda event, now: None)

    response = submit(client, f"/events/{event.id}/register", {"access_needs": "Step-free access"})

    assert response.status_code == 200
    assert "Registration for this event has closed" in text_of(response.text)
    assert registration_of(db, event, practitioner) is None


def test_access_needs_that_are_too_long_are_refused_and_kept(client, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    sign_in(client, make_user(db))
    typed = "I need a quiet room. " * 120

    response = submit(client, f"/events/{event.id}/register", {"access_needs": typed})

    assert response.status_code == 200
    assert "Access needs must be 2,000 characters or fewer" in text_of(response.text)
    assert typed.strip() in response.text
    assert "<title>Error:" in response.text


def test_coordinators_do_not_register(client, db, coordinator):
    event = make_event(db, coordinator=coordinator)
    sign_in(client, coordinator)

    assert client.get(f"/events/{event.id}/register").status_code == 403
    assert client.get("/events/mine").status_code == 403
