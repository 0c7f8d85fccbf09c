"""Family contributions: a family member's own words and files, kept private until sent, read only by staff."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.consent import ledger
from portal.consent.models import ConsentScope
from portal.families import contributions, services, uploads
from portal.families.explanation import EXPLANATION_VERSION
from portal.families.models import ContributionFile, FamilyContribution, FamilyMember, PreferredChannel
from portal.families.readability import readability
from portal.reviews.models import MembershipKind, Review, Stage
from portal.security.audit import AuditEvent
from portal.security.models import Role, User
from portal.security.passwords import hash_password
from tests.conftest import counting_queries, sign_in, submit, text_of
from tests.factories import DEFAULT_PASSWORD, make_membership, make_review, make_user
from tests.families.test_uploads import REFUSED, SAMPLES

TEXT = "My son loved football.\n\nHe was kind to everyone."


@dataclass
class Scene:
    review: Review
    coordinator: User
    author: User
    parent: FamilyMember
    young: FamilyMember


def add_member(db, review, coordinator, name: str, **extra) -> FamilyMember:
    member = services.add_family_member(
        db,
        review,
        services.FamilyDetails(
            name=name,
            email=f"{name.split()[0].lower()}@example.org",
            relationship_to_child="Mother",
            preferred_channel=PreferredChannel.EMAIL,
            **extra,
        ),
        coordinator,
    )
    member.person.password_hash = hash_password(DEFAULT_PASSWORD)
    return member


def agree_to_contribute(db, person: User, review_id: int, given: bool = True) -> None:
    ledger.record_choice(
        db,
        person=person,
        review_id=review_id,
        scope=ConsentScope.CONTRIBUTE,
        given=given,
        text_version=EXPLANATION_VERSION,
    )
    db.commit()


@pytest.fixture
def scene(db, upload_dir) -> Scene:
    coordinator = make_user(db, role=Role.COORDINATOR)
    review = make_review(db, coordinator=coordinator, stage=Stage.CSPR_IN_PROGRESS, anonymised_name="Child Q")
    author = make_user(db, role=Role.AUTHOR)
    make_membership(db, review, author, MembershipKind.AUTHOR)
    parent = add_member(db, review, coordinator, "Sam Carter")
    young = add_member(
        db, review, coordinator, "Jo Carter", young_person=True, supporting_adult="Pat Lee, youth worker"
    )
    db.commit()
    for member in (parent, young):
        agree_to_contribute(db, member.person, review.id)
    return Scene(review, coordinator, author, parent, young)


def base(scene: Scene) -> str:
    return f"/family/reviews/{scene.review.id}/contributions"


def staff_base(scene: Scene) -> str:
    return f"/reviews/{scene.review.id}/family/contributions"


def write(client, scene: Scene, *, title="About my son", text=TEXT, upload=None, send=False):
    data = {"title": title, "text": text, ("send" if send else "save"): "x"}
    if upload is not None:
        data["file"] = (io.BytesIO(upload[1]), upload[0])
    return submit(client, f"{base(scene)}/new", data, content_type="multipart/form-data")


def only_contribution(db) -> FamilyContribution:
    db.expire_all()
    return db.scalars(sa.select(FamilyContribution)).one()


def audits(db, action: str) -> list[AuditEvent]:
    return list(db.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def test_without_choosing_to_contribute_the_page_explains_kindly(client, db, scene):
    agree_to_contribute(db, scene.parent.person, scene.review.id, given=False)
    sign_in(client, scene.parent.person)
    page = client.get(base(scene))
    assert page.status_code == 200
    assert "Your choices say you do not want to do this yet" in text_of(page.text)
    assert f'href="/family/reviews/{scene.review.id}/choices"' in page.text
    reading = readability(" ".join(re.findall(r'<p class="govuk-body">([^<]*)<', page.text)))
    assert not reading.too_hard, reading.reading_age
    # Posting straight to the form saves nothing either.
    response = client.post(f"{base(scene)}/new", data={"title": "x", "save": "x"})
    assert response.status_code in (200, 400)
    assert db.scalar(sa.select(sa.func.count(FamilyContribution.id))) == 0


def test_a_draft_with_a_file_is_private_until_sent(client, db, scene, upload_dir):
    sign_in(client, scene.parent.person)
    response = write(client, scene, upload=("../../static/photo.png", SAMPLES["png"]))
    assert response.status_code == 302
    contribution = only_contribution(db)
    assert contribution.status == "draft"
    assert contribution.text == "<p>My son loved football.</p><p>He was kind to everyone.</p>"
    [stored] = contribution.files
    assert stored.original_name == "photo.png" and stored.detected_type == "png"
    assert re.fullmatch(r"[0-9a-f]{32}", stored.stored_name)
    assert (upload_dir / stored.stored_name).read_bytes() == SAMPLES["png"]
    assert [path.name for path in upload_dir.iterdir()] == [stored.stored_name]

    page = client.get(base(scene))
    assert "About my son" in page.text and "Draft" in page.text

    staff = client.application.test_client()
    sign_in(staff, scene.author)
    assert "About my son" not in staff.get(staff_base(scene)).text
    assert staff.get(f"{staff_base(scene)}/{contribution.id}").status_code == 404
    assert staff.get(f"{staff_base(scene)}/{contribution.id}/files/{stored.id}").status_code == 404


def test_a_renamed_file_is_refused_and_nothing_typed_is_lost(client, db, scene, upload_dir):
    sign_in(client, scene.parent.person)
    for name, data in (
        ("report.pdf", REFUSED["a web page named report.pdf"]),
        ("photo.jpg", REFUSED["a Windows program named photo.jpg"]),
    ):
        page = write(client, scene, text="Words I do not want to lose", upload=(name, data))
        assert page.status_code == 200
        assert "must be a PDF, a picture, a Word document or a sound recording" in page.text
        assert "Words I do not want to lose" in page.text and 'value="About my son"' in page.text
    assert db.scalar(sa.select(sa.func.count(FamilyContribution.id))) == 0
    assert not upload_dir.exists() or not any(upload_dir.iterdir())


def test_a_file_over_20_mb_gets_a_clear_error_and_keeps_the_text(client, db, scene):
    sign_in(client, scene.parent.person)
    too_big = SAMPLES["pdf"] + bytes(uploads.MAX_FILE_BYTES)
    page = write(client, scene, text="Still here", upload=("big.pdf", too_big))
    assert page.status_code == 200
    assert "The file must be smaller than 20 MB" in page.text
    assert "Still here" in page.text
    assert db.scalar(sa.select(sa.func.count(FamilyContribution.id))) == 0


def test_files_can_be_added_with_a_separate_form_and_removed_from_disk(client, db, scene, upload_dir):
    sign_in(client, scene.parent.person)
    write(client, scene)
    contribution = only_contribution(db)
    url = f"{base(scene)}/{contribution.id}"
    page = client.get(url)
    assert page.text.count('enctype="multipart/form-data"') == 2
    added = submit(
        client,
        f"{url}/files",
        {"another-file": (io.BytesIO(SAMPLES["mp3"]), "voice note.mp3"), "another-add": "x"},
        page=url,
        content_type="multipart/form-data",
    )
    assert added.status_code == 302
    [stored] = only_contribution(db).files
    assert stored.detected_type == "mp3"
    stored_id, stored_path = stored.id, upload_dir / stored.stored_name
    assert stored_path.exists()

    refused = submit(
        client,
        f"{url}/files",
        {"another-file": (io.BytesIO(REFUSED["a Linux program named song.mp3"]), "song.mp3"), "another-add": "x"},
        page=url,
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and "There is a problem" in refused.text

    removed = submit(client, f"{url}/files/{stored_id}/remove", {}, page=url)
    assert removed.status_code == 302
    assert only_contribution(db).files == []
    assert not stored_path.exists()
    assert db.scalar(sa.select(sa.func.count(ContributionFile.id))) == 0


def test_staff_read_download_and_acknowledge_then_it_is_locked(client, db, scene, upload_dir):
    sign_in(client, scene.parent.person)
    write(client, scene, upload=("letter.pdf", SAMPLES["pdf"]), send=True)
    contribution = only_contribution(db)
    assert contribution.status == "submitted" and contribution.supporting_adult is None
    [stored] = contribution.files

    # Still editable after sending.
    url = f"{base(scene)}/{contribution.id}"
    changed = submit(client, url, {"title": "About my son", "text": "Changed words", "send": "x"}, page=url)
    assert changed.status_code == 302
    assert only_contribution(db).text == "<p>Changed words</p>"

    staff = client.application.test_client()
    sign_in(staff, scene.author)
    listing = staff.get(staff_base(scene))
    assert "About my son" in listing.text and "Sam Carter" in listing.text
    assert len(audits(db, "family_contributions.listed")) == 1

    page = staff.get(f"{staff_base(scene)}/{contribution.id}")
    assert "Changed words" in page.text
    [read] = audits(db, "family_contribution.read")
    assert read.actor_id == scene.author.id and read.object_id == str(contribution.id)

    download = staff.get(f"{staff_base(scene)}/{contribution.id}/files/{stored.id}")
    assert download.status_code == 200
    assert download.data == SAMPLES["pdf"]
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "letter.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.mimetype == "application/pdf"
    assert len(audits(db, "family_contribution.file_downloaded")) == 1

    acknowledged = submit(
        staff, f"{staff_base(scene)}/{contribution.id}/acknowledge", {}, page=f"{staff_base(scene)}/{contribution.id}"
    )
    assert acknowledged.status_code == 302
    assert only_contribution(db).status == "acknowledged"
    assert len(audits(db, "family_contribution.acknowledged")) == 1

    mine = client.get(url)
    assert "The author has read this" in mine.text
    assert "<textarea" not in mine.text and "Remove" not in mine.text
    # Posting anyway changes nothing.
    token_page = client.get(f"{base(scene)}/new").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', token_page).group(1)
    client.post(url, data={"csrf_token": token, "title": "New", "text": "Sneaky", "save": "x"})
    client.post(f"{url}/files/{stored.id}/remove", data={"csrf_token": token})
    after = only_contribution(db)
    assert after.text == "<p>Changed words</p>" and after.title == "About my son" and len(after.files) == 1
    assert (upload_dir / stored.stored_name).exists()


def test_a_young_persons_contribution_records_their_supporting_adult(client, db, scene):
    sign_in(client, scene.young.person)
    write(client, scene, title="My brother", send=True)
    contribution = only_contribution(db)
    assert contribution.supporting_adult == "Pat Lee, youth worker"
    staff = client.application.test_client()
    sign_in(staff, scene.coordinator)
    assert "Pat Lee, youth worker" in staff.get(f"{staff_base(scene)}/{contribution.id}").text


def test_a_family_member_never_sees_another_family_members_contributions(client, db, scene):
    sign_in(client, scene.parent.person)
    write(client, scene, title="Only mine", send=True)
    contribution = only_contribution(db)

    other = client.application.test_client()
    sign_in(other, scene.young.person)
    assert "Only mine" not in other.get(base(scene)).text
    assert other.get(f"{base(scene)}/{contribution.id}").status_code == 404
    response = submit(
        other, f"{base(scene)}/{contribution.id}", {"title": "Taken", "save": "x"}, page=f"{base(scene)}/new"
    )
    assert response.status_code == 404
    assert only_contribution(db).title == "Only mine"
    # Nor through the staff pages.
    assert other.get(f"{staff_base(scene)}/{contribution.id}").status_code == 404


def test_sending_needs_words_or_a_file(client, db, scene):
    sign_in(client, scene.parent.person)
    page = write(client, scene, text="", send=True)
    assert page.status_code == 200
    assert "Write something or add a file before you send it" in page.text
    assert db.scalar(sa.select(sa.func.count(FamilyContribution.id))) == 0


def test_a_title_is_needed(client, db, scene):
    sign_in(client, scene.parent.person)
    page = write(client, scene, title="   ", text="Kept words")
    assert page.status_code == 200 and "Enter a short title" in page.text and "Kept words" in page.text


def test_family_facing_words_are_easy_to_read(client, scene):
    sign_in(client, scene.parent.person)
    page = client.get(base(scene))
    words = " ".join(re.findall(r'<p class="govuk-body">([^<]*)<', page.text))
    assert words
    assert not readability(words).too_hard, readability(words).reading_age


def test_the_upload_folder_is_not_the_static_folder(app, upload_dir):
    assert Path(app.static_folder).resolve() not in Path(app.config["UPLOAD_DIR"]).resolve().parents


def test_staff_reach_a_contribution_only_through_its_own_review(client, db, scene):
    sign_in(client, scene.parent.person)
    write(client, scene, send=True)
    contribution = only_contribution(db)
    other = make_review(db, coordinator=scene.coordinator, stage=Stage.CSPR_IN_PROGRESS)
    staff = client.application.test_client()
    sign_in(staff, scene.coordinator)
    assert staff.get(f"/reviews/{other.id}/family/contributions/{contribution.id}").status_code == 404
    assert "About my son" not in staff.get(f"/reviews/{other.id}/family/contributions").text


def test_the_staff_list_takes_the_same_number_of_queries_however_many_were_sent(client, db, scene, upload_dir):
    staff = client.application.test_client()
    sign_in(staff, scene.coordinator)
    for number, member in enumerate((scene.parent, scene.young)):
        with client.application.app_context():
            item = services_save(db, member, f"Sent {number}")
    db.commit()
    staff.get(staff_base(scene))  # warms caches
    with counting_queries(db) as few:
        staff.get(staff_base(scene))
    for number in range(6):
        with client.application.app_context():
            item = services_save(db, scene.young, f"More {number}")
    db.commit()
    with counting_queries(db) as many:
        page = staff.get(staff_base(scene))
    assert "More 5" in page.text and item.files
    assert len(many) == len(few), "\n".join(many)


def services_save(db, member: FamilyMember, title: str) -> FamilyContribution:
    item = contributions.save_contribution(db, member.membership, None, title=title, text="Words")
    contributions.add_file(db, item, original_name="a.png", data=SAMPLES["png"], by=member.person)
    contributions.submit_contribution(db, member.membership, item)
    return item
