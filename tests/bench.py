"""``make bench``: how long each page takes to serve and how many queries it makes.

A benchmark, not a test: it prints numbers to compare between changes and asserts nothing about
time. Run on the same machine to compare. Uses a throwaway database (``PORTAL_TEST_DB`` chooses).
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from pathlib import Path

import pyotp
import sqlalchemy as sa
from sqlalchemy import event

from portal.authoring.detectors import find_hits
from portal.events.models import Event
from portal.reviews.models import Review
from tests import databases
from tests.conftest import csrf_token, make_test_app

ROUNDS = 200
# "{review}" stands for the demo review's id, "{event}" for the demo practitioner event's.
PAGES = {
    "anonymous": ["/", "/sign-in", "/accessibility", "/healthz", "/learning"],
    "practitioner": [
        "/",
        "/account",
        "/account/sessions",
        "/my-reviews",
        "/reviews/{review}",
        "/events",
        "/events/{event}",
        "/events/mine",
        "/reflections",
        "/requests",
        "/briefings",
        "/drafts-to-read",
    ],
    "coordinator": [
        "/",
        "/reviews",
        "/reviews/{review}",
        "/reviews/{review}/rapid-review",
        "/reviews/clocks",
        "/events/manage",
        "/events/{event}",
        "/events/{event}/registrations",
        "/reviews/{review}/family",
        "/reviews/{review}/family/letters",
        "/reviews/{review}/requests",
        "/reviews/{review}/inbox",
        "/reviews/{review}/drafts",
        "/reviews/{review}/pre-publication",
        "/reviews/{review}/protected-terms",
        "/reviews/{review}/publication",
        "/reviews/{review}/action-plan",
        "/requests/overdue",
        "/action-plans/overdue",
    ],
    "family": [
        "/",
        "/family/reviews/{review}",
        "/family/reviews/{review}/choices",
        "/family/reviews/{review}/updates",
    ],
}


def sign_in(client, account: dict) -> None:
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"csrf_token": csrf_token(page.text), "email": account["email"], "password": account["password"]},
    )
    if response.headers["Location"].endswith("/two-factor"):
        page = client.get("/sign-in/two-factor")
        client.post(
            "/sign-in/two-factor",
            data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(account["totp_secret"]).now()},
        )


def bench_anonymisation_check(rounds: int = 20) -> None:
    """The anonymisation check over a 100-page report (about 300,000 characters) with 50 protected terms."""
    terms = [f"Name{number} Surname{number}" for number in range(49)] + ["12 Orchard Lane"]
    paragraph = (
        "The health visitor saw Name7 Surname7 at home on 12 March 2019 and spoke to the school about "
        "attendance; the family moved from 12 Orchard Lane, NT1 4AB, and could be reached on 07700 900123. "
    )
    report = paragraph * (300_000 // len(paragraph))
    timings = []
    for _ in range(rounds):
        start = time.perf_counter()
        hits = find_hits(report, terms)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"anonymisation check: {len(report):,} characters, {len(terms)} terms, {len(hits):,} hits")
    print(f"  median {statistics.median(timings):.0f} ms, slowest {max(timings):.0f} ms over {rounds} runs")


def main() -> None:
    url, drop = databases.create_database(Path(tempfile.mkdtemp()))
    try:
        app = make_test_app(url, MAIL_BACKEND="console", RATELIMIT_ENABLED=False)
        runner = app.test_cli_runner()
        runner.invoke(args=["db", "upgrade"])
        accounts = {a["role"]: a for a in json.loads(runner.invoke(args=["demo", "seed", "--json"]).output)}
        engine = app.extensions["portal.db"].kw["bind"]
        with engine.connect() as connection:
            review_id = connection.scalar(sa.select(Review.id).where(Review.reference == "LSCP-2026-004"))
            event_id = connection.scalar(sa.select(Event.id).where(Event.review_id == review_id))
        queries = [0]

        @event.listens_for(engine, "before_cursor_execute")
        def count(*_args):
            queries[0] += 1

        print(f"{databases.backend()}: {ROUNDS} requests per page")
        print(f"{'who':<13} {'page':<30} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for who, pages in PAGES.items():
            client = app.test_client()
            if who != "anonymous":
                sign_in(client, accounts[who])
            for page in (page.format(review=review_id, event=event_id) for page in pages):
                assert client.get(page).status_code == 200, (who, page)
                timings = []
                queries[0] = 0
                for _ in range(ROUNDS):
                    start = time.perf_counter()
                    client.get(page)
                    timings.append((time.perf_counter() - start) * 1000)
                per_request = queries[0] / ROUNDS
                p95 = statistics.quantiles(timings, n=20)[-1]
                print(f"{who:<13} {page:<30} {statistics.median(timings):>10.2f} {p95:>8.2f} {per_request:>8.1f}")
        engine.dispose()
    finally:
        drop()
    bench_anonymisation_check()


if __name__ == "__main__":
    main()
