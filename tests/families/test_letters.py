"""Letters: an update for someone who hears through a named worker waits as a printable task.

The worker prints it, gives or posts it and records that. Consent is asked again at that moment, as
the outbox asks it before an email goes: a letter is never recorded as given after a withdrawal.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.consent.models import ConsentChannel
from portal.families import letters, services
from portal.families.models import PreferredChannel
from portal.notifications import worker
from portal.notifications.models import Channel, OutboxMessage
from portal.reviews import memberships
from portal.security.audit import AuditEvent
from tests.conftest import counting_queries, submit, text_of
from tests.consent.test_sending_with_consent import Recorder
from tests.factories import make_review
from tests.families.test_updates import EASY, add_member, agree

ADDRESS = "Flat 2\n14 Canal Street\nNorthtown NT1 4AB"


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator)


@pytest.fixture
def eve(db, review, coordinator):
    return add_member(
        db, review, coordinator, "Eve", PreferredChannel.LETTER, postal_address=ADDRESS, letter_worker="Jo Smith"
    )


def write_update(client, review, subject: str = "The panel has met") -> None:
    response = submit(
        client, f"/reviews/{review.id}/family/updates/new", {"subject": subject, "body": EASY, "send": "Send update"}
    )
    assert response.status_code == 302


def close(client, review, letter):
    """Press the letter page's button (the form's token is taken from the list, not the letter)."""
    url = f"/reviews/{review.id}/family/letters/{letter.id}"
    return submit(client, url, {}, page=f"/reviews/{review.id}/family/letters")


def the_letter(db) -> OutboxMessage:
    return db.scalar(sa.select(OutboxMessage).where(OutboxMessage.channel == Channel.LETTER.value))


def audit_actions(db) -> list[str]:
    return list(db.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("family_letter.%"))))


def test_a_letter_waits_for_the_named_worker_and_no_machine_sends_it(app, as_coordinator, db, review, eve):
    agree(db, eve, ConsentChannel.LETTER)
    write_update(as_coordinator, review)

    recorder = Recorder()
    assert worker.drain(db, recorder, app.config) == 0
    assert recorder.sent == []
    letter = the_letter(db)
    assert (letter.status, letter.to_address, letter.recipient_id) == ("pending", "Jo Smith", eve.person.id)

    family_page = text_of(as_coordinator.get(f"/reviews/{review.id}/family").text)
    assert "Letters to give 1 waiting" in family_page
    listing = text_of(as_coordinator.get(f"/reviews/{review.id}/family/letters").text)
    assert "The panel has met Eve Jo Smith" in listing
    assert "Can it go? Yes" not in listing and listing.count("Yes") == 1


def test_the_worker_prints_the_letter_and_records_it_given(as_coordinator, db, review, eve):
    agree(db, eve, ConsentChannel.LETTER)
    write_update(as_coordinator, review)
    letter = the_letter(db)

    page = as_coordinator.get(f"/reviews/{review.id}/family/letters/{letter.id}")
    assert page.status_code == 200
    assert "portal-print-page" in page.text  # the print styles leave only the letter
    words = text_of(page.text)
    assert "Eve Flat 2 14 Canal Street Northtown NT1 4AB" in words
    assert "Dear Eve, The panel has met" in words
    assert "We met today." in words
    assert "tell the person who is your contact" in words

    response = close(as_coordinator, review, letter)
    assert response.status_code == 302
    confirmation = text_of(as_coordinator.get(response.headers["Location"]).text)
    assert "Recorded: the letter was given to Eve." in confirmation
    assert "There are no letters waiting to be given." in confirmation
    db.refresh(letter)
    assert letter.status == "sent" and letter.sent_at is not None

    history = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{eve.id}").text)
    assert "The panel has met Letter Given or posted" in history
    assert audit_actions(db) == ["family_letter.viewed", "family_letter.given"]


def test_a_letter_queued_before_a_withdrawal_is_never_recorded_as_given(as_coordinator, db, review, eve):
    agree(db, eve, ConsentChannel.LETTER)
    write_update(as_coordinator, review)
    letter = the_letter(db)
    agree(db, eve, ConsentChannel.LETTER, given=False)

    listing = text_of(as_coordinator.get(f"/reviews/{review.id}/family/letters").text)
    assert "No: do not give it" in listing
    page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/letters/{letter.id}").text)
    assert "Do not give this letter. Eve has not agreed to updates by letter." in page
    assert "Canal Street" not in page  # nothing to print

    response = close(as_coordinator, review, letter)
    confirmation = text_of(as_coordinator.get(response.headers["Location"]).text)
    assert "Recorded as not sent: Eve has not agreed to updates by letter." in confirmation
    db.refresh(letter)
    assert letter.status == "not_sent"
    assert letter.last_error == "not sent: no consent for this channel at the time of sending"
    history = text_of(as_coordinator.get(f"/reviews/{review.id}/family/{eve.id}").text)
    assert "The panel has met Letter Not sent: no consent" in history
    assert audit_actions(db) == ["family_letter.not_sent"]


def test_consent_to_other_channels_does_not_cover_a_letter(as_coordinator, db, review, eve):
    agree(db, eve, ConsentChannel.EMAIL)
    write_update(as_coordinator, review)
    letter = the_letter(db)
    close(as_coordinator, review, letter)
    db.refresh(letter)
    assert letter.status == "not_sent"


def test_a_letter_for_someone_who_left_the_review_is_not_given(as_coordinator, db, review, eve, coordinator):
    agree(db, eve, ConsentChannel.LETTER)
    write_update(as_coordinator, review)
    letter = the_letter(db)
    memberships.end_membership(db, eve.membership, coordinator, reason="Moved away")
    db.commit()

    page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/letters/{letter.id}").text)
    assert "Eve no longer takes part in this review." in page
    close(as_coordinator, review, letter)
    db.refresh(letter)
    assert (letter.status, letter.last_error) == ("not_sent", letters.NO_LONGER_FAMILY)


def test_recording_a_letter_twice_changes_nothing(as_coordinator, db, review, eve):
    agree(db, eve, ConsentChannel.LETTER)
    write_update(as_coordinator, review)
    letter = the_letter(db)
    close(as_coordinator, review, letter)
    agree(db, eve, ConsentChannel.LETTER, given=False)
    close(as_coordinator, review, letter)
    db.refresh(letter)
    assert letter.status == "sent"
    page = text_of(as_coordinator.get(f"/reviews/{review.id}/family/letters/{letter.id}").text)
    assert "Status Given or posted" in page
    assert audit_actions(db) == ["family_letter.given"]


def test_the_letters_page_asks_the_same_number_of_queries_however_many_letters(as_coordinator, db, review, coordinator):
    def queries() -> int:
        with counting_queries(db) as statements:
            assert as_coordinator.get(f"/reviews/{review.id}/family/letters").status_code == 200
        return len(statements)

    add_member(db, review, coordinator, "Eve", PreferredChannel.LETTER, postal_address=ADDRESS, letter_worker="Jo")
    services.send_update(db, review, "One", EASY, coordinator)
    db.commit()
    queries()  # the first request of a session also records when it was last seen
    few = queries()
    for number in range(20):
        add_member(
            db,
            review,
            coordinator,
            f"Reader{number}",
            PreferredChannel.LETTER,
            postal_address=ADDRESS,
            letter_worker="Jo",
        )
    services.send_update(db, review, "Two", EASY, coordinator)
    db.commit()
    assert queries() == few
