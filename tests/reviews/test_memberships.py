"""Appointing people to a review, ending their part at once, and the author's declaration of independence."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from portal.reviews import memberships
from portal.reviews.memberships import MembershipRefused, appoint, declare_independence, end_membership
from portal.reviews.models import Membership, MembershipKind
from portal.security.audit import AuditEvent
from portal.security.models import Role
from tests.conftest import sign_in, submit
from tests.factories import make_agency, make_membership, make_review, make_user

# Services ------------------------------------------------------------------------------------------


@pytest.fixture
def review(db, coordinator):
    return make_review(db, coordinator=coordinator)


def audit_rows(db, action):
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.mark.parametrize(
    ("kind", "role", "with_agency"),
    [
        (MembershipKind.AUTHOR, Role.AUTHOR, False),
        (MembershipKind.PANEL_MEMBER, Role.PRACTITIONER, True),
        (MembershipKind.AGENCY_LEAD, Role.PRACTITIONER, True),
        (MembershipKind.PRACTITIONER, Role.PRACTITIONER, False),
        (MembershipKind.FAMILY, Role.FAMILY, False),
    ],
)
def test_each_kind_can_be_appointed_and_is_audited(db, review, coordinator, kind, role, with_agency):
    agency = make_agency(db) if with_agency else None
    person = make_user(db, role=role, agency=agency)
    membership = appoint(db, review, person, kind, coordinator)
    db.commit()
    assert membership.is_open and membership.kind == kind.value and membership.user_id == person.id
    assert membership.started_by_id == coordinator.id
    assert membership.agency_id == (agency.id if agency else None)
    (row,) = audit_rows(db, "membership.appointed")
    assert row.review_id == review.id and row.actor_id == coordinator.id and row.object_id == str(membership.id)
    assert json.loads(row.details)["kind"] == kind.value


def test_an_appointed_author_sees_nothing_until_they_declare(db, review, coordinator):
    author = make_user(db, role=Role.AUTHOR)
    membership = appoint(db, review, author, MembershipKind.AUTHOR, coordinator)
    assert not membership.grants_access
    declare_independence(db, membership, True, True, "  I once worked in the county, ten years ago.  ")
    db.commit()
    assert membership.grants_access
    assert membership.declaration.statement == "I once worked in the county, ten years ago."
    (row,) = audit_rows(db, "independence.declared")
    assert row.review_id == review.id and row.actor_id == author.id


@pytest.mark.parametrize(("case", "agencies"), [(False, True), (True, False), (False, False)])
def test_independence_needs_both_statements(db, review, coordinator, case, agencies):
    author = make_user(db, role=Role.AUTHOR)
    membership = appoint(db, review, author, MembershipKind.AUTHOR, coordinator)
    with pytest.raises(MembershipRefused, match="only be the independent author if both statements are true"):
        declare_independence(db, membership, case, agencies, None)
    assert membership.declaration is None and not membership.grants_access
    assert audit_rows(db, "independence.declared") == []


def test_only_an_open_author_membership_can_declare(db, review, coordinator):
    practitioner = make_membership(db, review, make_user(db), MembershipKind.PRACTITIONER)
    with pytest.raises(MembershipRefused, match="Only the appointed independent author"):
        declare_independence(db, practitioner, True, True, None)
    declared = make_membership(db, review, make_user(db, role=Role.AUTHOR), MembershipKind.AUTHOR)
    with pytest.raises(MembershipRefused, match="already declared"):
        declare_independence(db, declared, True, True, None)


@pytest.mark.parametrize(
    ("kind", "role", "message"),
    [
        (MembershipKind.AUTHOR, Role.PRACTITIONER, "only people with an independent author account can"),
        (MembershipKind.PANEL_MEMBER, Role.FAMILY, "only people with a practitioner account can"),
        (MembershipKind.PANEL_MEMBER, Role.AUTHOR, "only people with a practitioner account can"),
        (MembershipKind.AGENCY_LEAD, Role.COORDINATOR, "only people with a practitioner account can"),
        (MembershipKind.PRACTITIONER, Role.FAMILY, "only people with a practitioner account can"),
        (MembershipKind.FAMILY, Role.PRACTITIONER, "only people with a family member account can"),
    ],
)
def test_wrong_roles_are_refused(db, review, coordinator, kind, role, message):
    person = make_user(db, role=role, agency=make_agency(db))
    with pytest.raises(MembershipRefused, match=message):
        appoint(db, review, person, kind, coordinator)
    assert db.scalar(sa.select(sa.func.count()).select_from(Membership)) == 0


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (MembershipKind.PANEL_MEMBER, "is not linked to an agency. A panel member must represent one"),
        (MembershipKind.AGENCY_LEAD, "is not linked to an agency. An agency lead must represent one"),
    ],
)
def test_agency_representatives_need_an_agency(db, review, coordinator, kind, message):
    with pytest.raises(MembershipRefused, match=message):
        appoint(db, review, make_user(db, role=Role.PRACTITIONER), kind, coordinator)


def test_an_agency_lead_represents_their_own_agency(db, review, coordinator):
    person = make_user(db, agency=make_agency(db, "Northshire Police"))
    with pytest.raises(MembershipRefused, match="can only represent their own agency, Northshire Police"):
        appoint(db, review, person, MembershipKind.AGENCY_LEAD, coordinator, agency=make_agency(db, "Other NHS"))


def test_duplicates_are_refused_but_other_parts_and_reviews_are_not(db, review, coordinator):
    person = make_user(db, agency=make_agency(db))
    appoint(db, review, person, MembershipKind.PRACTITIONER, coordinator)
    with pytest.raises(MembershipRefused, match="is already a practitioner on this review"):
        appoint(db, review, person, MembershipKind.PRACTITIONER, coordinator)
    appoint(db, review, person, MembershipKind.PANEL_MEMBER, coordinator)
    appoint(db, make_review(db, coordinator=coordinator), person, MembershipKind.PRACTITIONER, coordinator)


def test_one_agency_lead_per_agency_and_one_author(db, review, coordinator):
    police = make_agency(db, "Northshire Police")
    appoint(db, review, make_user(db, agency=police, name="Sam Lead"), MembershipKind.AGENCY_LEAD, coordinator)
    with pytest.raises(
        MembershipRefused, match="Northshire Police already has an agency lead on this review, Sam Lead"
    ):
        appoint(db, review, make_user(db, agency=police), MembershipKind.AGENCY_LEAD, coordinator)
    appoint(db, review, make_user(db, agency=make_agency(db)), MembershipKind.AGENCY_LEAD, coordinator)

    appoint(db, review, make_user(db, role=Role.AUTHOR, name="Ada Author"), MembershipKind.AUTHOR, coordinator)
    with pytest.raises(MembershipRefused, match="already has an independent author, Ada Author"):
        appoint(db, review, make_user(db, role=Role.AUTHOR), MembershipKind.AUTHOR, coordinator)


def test_after_ending_the_same_part_can_be_given_again(db, review, coordinator):
    person = make_user(db)
    first = appoint(db, review, person, MembershipKind.PRACTITIONER, coordinator)
    end_membership(db, first, coordinator, "Moved to another team")
    again = appoint(db, review, person, MembershipKind.PRACTITIONER, coordinator)
    assert again.id != first.id and again.is_open


def test_deactivated_people_and_non_coordinators_cannot_appoint_or_be_appointed(db, review, coordinator):
    with pytest.raises(MembershipRefused, match="deactivated"):
        appoint(db, review, make_user(db, active=False), MembershipKind.PRACTITIONER, coordinator)
    with pytest.raises(MembershipRefused, match="Only a coordinator"):
        appoint(db, review, make_user(db), MembershipKind.PRACTITIONER, make_user(db, role=Role.AUTHOR))


def test_ending_a_membership_needs_a_reason_and_is_audited(db, review, coordinator):
    membership = make_membership(db, review, make_user(db), MembershipKind.PRACTITIONER)
    with pytest.raises(MembershipRefused, match="Enter why this membership is ending"):
        end_membership(db, membership, coordinator, "   ")
    end_membership(db, membership, coordinator, " Left the agency ")
    db.commit()
    assert not membership.is_open and not membership.grants_access
    assert membership.end_reason == "Left the agency" and membership.ended_by_id == coordinator.id
    (row,) = audit_rows(db, "membership.ended")
    assert row.review_id == review.id and json.loads(row.details)["reason"] == "Left the agency"
    with pytest.raises(MembershipRefused, match="already ended"):
        end_membership(db, membership, coordinator, "Again")


# Pages ---------------------------------------------------------------------------------------------


def test_coordinator_appoints_from_the_members_page(client, db, review, coordinator):
    person = make_user(db, name="Priya Patel", agency=make_agency(db, "Northshire Health"))
    make_user(db, role=Role.FAMILY, name="Fran Family")
    sign_in(client, coordinator)
    page = client.get(f"/reviews/{review.id}/members")
    assert "Nobody has been appointed yet" in page.text
    assert "Priya Patel (Northshire Health)" in page.text and "Fran Family" in page.text
    assert '<optgroup label="Practitioners">' in page.text and '<optgroup label="Family members">' in page.text

    url = f"/reviews/{review.id}/members"
    response = submit(client, url, {"person": str(person.id), "kind": "agency_lead"})
    assert response.status_code == 302
    page = client.get(url)
    assert "Priya Patel is now an agency lead on this review." in page.text
    assert "Agency lead" in page.text and "Northshire Health" in page.text


def test_refusals_and_missing_answers_show_on_the_form(client, db, review, coordinator):
    family = make_user(db, role=Role.FAMILY, name="Fran Family")
    sign_in(client, coordinator)
    url = f"/reviews/{review.id}/members"
    response = submit(client, url, {"person": "", "kind": ""})
    assert response.status_code == 200
    assert "Select the person to appoint" in response.text and "Select their part in the review" in response.text
    assert "<title>Error:" in response.text

    response = submit(client, url, {"person": str(family.id), "kind": "panel_member"})
    assert response.status_code == 200
    assert "Fran Family cannot be appointed as a panel member" in response.text
    # What was chosen is kept.
    assert f'value="{family.id}" selected' in response.text
    assert 'value="panel_member" checked' in response.text

    response = submit(client, url, {"person": "not-a-number", "kind": "nonsense"})
    assert response.status_code == 200


def test_the_person_list_can_be_narrowed_by_name(client, db, review, coordinator):
    make_user(db, name="Alice Smith")
    make_user(db, name="Bob Jones")
    sign_in(client, coordinator)
    page = client.get(f"/reviews/{review.id}/members?q=smi")
    assert "Alice Smith" in page.text and "Bob Jones" not in page.text


def test_ending_access_takes_effect_on_the_next_request(client, db, review, coordinator):
    panel = make_user(db, agency=make_agency(db), name="Pat Panel")
    membership = make_membership(db, review, panel, MembershipKind.PANEL_MEMBER)
    sign_in(client, panel)
    assert review.reference in client.get("/my-reviews").text
    assert client.get(f"/reviews/{review.id}").status_code == 200

    other = client.application.test_client()
    sign_in(other, coordinator)
    url = f"/reviews/{review.id}/members/{membership.id}/end"
    page = other.get(url)
    assert "End Pat Panel's membership" in page.text
    response = submit(other, url, {"reason": ""})
    assert "Enter why this membership is ending" in response.text
    response = submit(other, url, {"reason": "Left the panel"})
    assert response.status_code == 302
    page = other.get(f"/reviews/{review.id}/members")
    assert "No longer taking part" in page.text and "Left the panel" in page.text

    # The panel member, still signed in, has lost the review at once.
    assert review.reference not in client.get("/my-reviews").text
    assert client.get(f"/reviews/{review.id}").status_code == 404
    # An ended membership cannot be ended twice.
    assert other.get(url).status_code == 404


def test_a_membership_of_another_review_cannot_be_ended_through_this_one(client, db, review, coordinator):
    elsewhere = make_membership(
        db, make_review(db, coordinator=coordinator), make_user(db), MembershipKind.PRACTITIONER
    )
    sign_in(client, coordinator)
    assert client.get(f"/reviews/{review.id}/members/{elsewhere.id}/end").status_code == 404


def test_undeclared_author_sees_only_the_declaration_page(client, db, review, coordinator):
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR, declared=False)
    sign_in(client, author)

    listing = client.get("/my-reviews").text
    assert review.reference in listing and "Declare your independence" in listing
    assert review.stage_enum.label not in listing
    assert f'href="/reviews/{review.id}"' not in listing
    assert client.get(f"/reviews/{review.id}").status_code == 404
    assert client.get(f"/reviews/{review.id}/members").status_code == 404

    url = f"/reviews/{review.id}/independence"
    page = client.get(url)
    assert page.status_code == 200
    assert review.reference in page.text and review.anonymised_name in page.text
    assert "<legend" in page.text and "Your independence" in page.text

    response = submit(client, url, {"statements": "case", "statement": "Some words"})
    assert response.status_code == 200
    assert "only be the independent author if both statements are true" in response.text
    assert "Some words" in response.text

    response = submit(client, url, {"statements": ["case", "agencies"], "statement": ""})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reviews/{review.id}")
    assert client.get(f"/reviews/{review.id}").status_code == 200
    listing = client.get("/my-reviews").text
    assert "Declare your independence" not in listing
    assert review.stage_enum.label in listing and "Independent author" in listing
    # Declared: the page has done its work.
    assert client.get(url).status_code == 404


def test_the_members_partial_lists_open_members(app, db, review, coordinator):
    from flask import render_template_string

    from portal.reviews.access import ALL_PARTS, PARTS_BY_MEMBERSHIP, ReviewAccess

    author = make_user(db, role=Role.AUTHOR, name="Ada Author")
    make_membership(db, review, author, MembershipKind.AUTHOR, declared=False)
    make_membership(
        db,
        review,
        make_user(db, name="Pat Panel", agency=make_agency(db, "Northshire Police")),
        MembershipKind.PANEL_MEMBER,
    )
    ended = make_membership(db, review, make_user(db, name="Gone Person"), MembershipKind.PRACTITIONER)
    end_membership(db, ended, coordinator, "Left")
    db.commit()
    members = memberships.open_members(db, review)
    template = '{% include "reviews/_members.html" %}'
    with app.test_request_context():
        html = render_template_string(template, review=review, access=ReviewAccess(ALL_PARTS), memberships=members)
        family = render_template_string(
            template,
            review=review,
            access=ReviewAccess(PARTS_BY_MEMBERSHIP[MembershipKind.FAMILY]),
            memberships=members,
        )
        panel = render_template_string(
            template,
            review=review,
            access=ReviewAccess(PARTS_BY_MEMBERSHIP[MembershipKind.PANEL_MEMBER]),
            memberships=members,
        )
    assert "Ada Author" in html and "awaiting independence declaration" in html
    assert "Pat Panel" in html and "Northshire Police" in html and "Gone Person" not in html
    assert "Manage members" in html
    assert family.strip() == ""
    assert "Pat Panel" in panel and "Manage members" not in panel


def test_the_members_page_needs_a_fixed_number_of_queries(client, db, app, review, coordinator):
    engine = app.extensions["portal.db"].kw["bind"].engine

    def count_queries() -> int:
        seen = []

        def before(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", before)
        try:
            assert client.get(f"/reviews/{review.id}/members").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", before)
        return len(seen)

    def add_members(count: int) -> None:
        for _ in range(count):
            agency = make_agency(db)
            make_membership(db, review, make_user(db, agency=agency), MembershipKind.PANEL_MEMBER)
            ended = make_membership(db, review, make_user(db, agency=agency), MembershipKind.PRACTITIONER)
            end_membership(db, ended, coordinator, "Left")
        db.commit()

    sign_in(client, coordinator)
    add_members(1)
    count_queries()
    few = count_queries()
    add_members(9)
    assert count_queries() == few
