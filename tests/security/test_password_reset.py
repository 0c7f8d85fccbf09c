"""Password reset by an emailed, single-use link that works for one hour."""

import re
from datetime import timedelta

import sqlalchemy as sa

from portal.db import utcnow
from portal.notifications.models import OutboxMessage
from portal.security.models import PasswordResetToken
from tests.conftest import free_port, sign_in, submit
from tests.factories import make_user

NEW_PASSWORD = "plum orchard lantern"


def request_link(client, mailbox, user) -> str:
    page = submit(client, "/password-reset", {"email": user.email.upper()})
    assert "Check your email" in page.text
    body = mailbox.last_to(user.email).get_payload(decode=True).decode()
    return re.search(r"http://portal\.test(/password-reset/\S+)", body).group(1)


def choose(client, link: str, password: str = NEW_PASSWORD):
    return submit(client, link, {"password": password, "confirm": password})


def test_reset_link_sets_a_new_password_once(client, db, mailbox):
    user = make_user(db)
    link = request_link(client, mailbox, user)
    response = choose(client, link)
    assert response.status_code == 302
    assert "Your password has been changed" in client.get(response.headers["Location"]).text
    sign_in(client, user, NEW_PASSWORD)
    # Used once, the link is dead.
    assert "This link no longer works" in client.get(link).text
    assert client.get(link).status_code == 404


def test_reset_link_expires_after_an_hour(client, db, mailbox):
    user = make_user(db)
    link = request_link(client, mailbox, user)
    db.execute(sa.update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.commit()
    assert client.get(link).status_code == 404


def test_the_email_says_how_long_the_link_lasts(client, db, mailbox):
    user = make_user(db)
    request_link(client, mailbox, user)
    message = mailbox.last_to(user.email)
    assert message["Subject"] == "Reset your password"
    assert "within 1 hour" in message.get_payload(decode=True).decode()


def test_unknown_address_gets_the_same_page_and_no_email(client, mailbox):
    page = submit(client, "/password-reset", {"email": "nobody@example.org"})
    assert "Check your email" in page.text
    assert mailbox.received() == []


def test_deactivated_person_gets_no_link(client, db, mailbox):
    user = make_user(db, active=False)
    submit(client, "/password-reset", {"email": user.email})
    assert mailbox.received() == []


def test_a_newer_reset_kills_older_links(client, db, mailbox):
    user = make_user(db)
    first = request_link(client, mailbox, user)
    second = request_link(client, mailbox, user)
    choose(client, second)
    assert client.get(first).status_code == 404


def test_reset_ends_every_session(app, client, db, mailbox):
    user = make_user(db)
    elsewhere = app.test_client()
    sign_in(elsewhere, user)
    choose(client, request_link(client, mailbox, user))
    assert elsewhere.get("/account").status_code == 302


def test_mismatched_or_short_passwords_are_explained_and_nothing_changes(client, db, mailbox):
    user = make_user(db)
    link = request_link(client, mailbox, user)
    short = choose(client, link, "short")
    assert "Password must be 12 characters or more" in short.text
    mismatch = submit(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD + "x"})
    assert "Passwords must match" in mismatch.text
    assert "There is a problem" in mismatch.text
    sign_in(client, user)  # the old password still works


def test_invalid_email_format_is_explained(client):
    page = submit(client, "/password-reset", {"email": "not an email"})
    assert "Enter an email address in the correct format" in page.text
    assert 'value="not an email"' in page.text


def test_a_mail_failure_gives_the_same_answer_logs_no_link_and_the_link_arrives_later(app, client, db, mailbox, caplog):
    user = make_user(db)
    page = submit(client, "/password-reset", {"email": user.email})
    assert page.status_code == 200
    assert "Check your email" in page.text
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there
    try:
        assert mailbox.received() == []
    finally:
        app.config["MAIL_PORT"] = working_port
    message = db.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_address == user.email))
    assert (message.status, message.attempts) == ("pending", 1)
    assert "could not reach the mail server" in message.last_error
    assert "/password-reset/" not in caplog.text
    message.send_after = utcnow()  # the retry's time has come
    db.commit()
    link = re.search(r"/password-reset/\S+", mailbox.last_to(user.email).get_payload(decode=True).decode()).group(0)
    db.refresh(message)
    # Sent: the secret link is no longer kept in the outbox.
    assert message.status == "sent"
    assert "/password-reset/" not in message.body
    assert choose(client, link).status_code == 302


def test_the_pages_state_the_configured_lifetime(app, client):
    app.config["PASSWORD_RESET_MINUTES"] = 30
    try:
        assert "for 30 minutes" in client.get("/password-reset").text
    finally:
        app.config["PASSWORD_RESET_MINUTES"] = 60
