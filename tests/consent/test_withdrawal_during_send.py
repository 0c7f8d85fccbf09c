"""A withdrawal that arrives while a message is being sent waits for it, and stops everything after it.

Its own module: the test builds an app on a database of its own, which the CLI runner would not do
inside another app's context (see the autouse fixture in test_sending_with_consent).
"""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from portal.consent import ledger
from portal.consent.models import ConsentChannel
from portal.notifications import worker
from portal.notifications.models import Channel, OutboxMessage
from portal.security.models import User
from tests import databases
from tests.conftest import make_test_app
from tests.consent.test_sending_with_consent import TEXT, Recorder, choose, family_member, queue_update
from tests.factories import make_review


@pytest.mark.skipif(
    databases.backend() != "postgresql", reason="SQLite (development) runs one writer at a time: nothing interleaves"
)
def test_a_withdrawal_during_a_send_waits_for_it_and_stops_everything_after(tmp_path):
    # A database of its own: the worker and the withdrawal commit for real, on two connections.
    url, drop = databases.create_database(tmp_path)
    live = make_test_app(url)
    sessions = live.extensions["portal.db"]
    try:
        assert live.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
        with live.app_context(), sessions() as db:
            review = make_review(db)
            person = family_member(db)
            person_id, review_id = person.id, review.id
            choose(db, person, review, ConsentChannel.EMAIL, True)
            queue_update(db, person, review, Channel.EMAIL, "First")
            queue_update(db, person, review, Channel.EMAIL, "Second")

        sending = threading.Event()
        finish_sending = threading.Event()
        order: list[str] = []

        class Slow:
            def send(self, message: OutboxMessage) -> None:
                sending.set()
                finish_sending.wait(timeout=30)
                order.append(f"sent {message.subject}")

        def send_first() -> None:
            with live.app_context(), sessions() as db:
                worker.deliver_one(db, Slow(), live.config)

        def withdraw() -> None:
            with live.app_context(), sessions() as db:
                person = db.get(User, person_id)
                ledger.withdraw_everything(db, person=person, review_id=review_id, text_version=TEXT)
                db.commit()
                order.append("withdrawn")

        worker_thread = threading.Thread(target=send_first)
        worker_thread.start()
        assert sending.wait(timeout=30)
        withdrawal = threading.Thread(target=withdraw)
        withdrawal.start()
        withdrawal.join(timeout=1)
        assert withdrawal.is_alive(), "the withdrawal should wait for the send in progress"
        finish_sending.set()
        worker_thread.join(timeout=30)
        withdrawal.join(timeout=30)
        assert order == ["sent First", "withdrawn"]

        with live.app_context(), sessions() as db:
            worker.drain(db, Recorder(), live.config)
            statuses = dict(db.execute(sa.select(OutboxMessage.subject, OutboxMessage.status)).all())
        assert statuses == {"First": "sent", "Second": "not_sent"}
    finally:
        sessions.kw["bind"].dispose()
        drop()
