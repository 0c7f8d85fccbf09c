"""The public learning pages: published reports, learning summaries and briefings, with no sign-in.

Anyone may read them: every route is ``PUBLIC``. What is shown is limited by the loaders in
``portal.learning.public``, which find only publications whose page is online; anything else,
including a review that exists but is not published, is 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, render_template

from portal.db import get_session
from portal.learning import public
from portal.pagination import page_of, requested_page
from portal.security.permissions import PUBLIC, requires

bp = Blueprint("learning_public", __name__)


@bp.route("/learning")
@requires(PUBLIC)
def reviews():
    db = get_session()
    page = requested_page()
    publications, total = public.published_reviews(db, page=page)
    pagination = page_of(total, public.REVIEWS_PER_PAGE, page)
    return render_template(
        "learning/public/reviews.html",
        publications=publications,
        pagination=pagination,
        labels=public.PUBLIC_DECISION_LABELS,
    )


@bp.route("/learning/<slug>")
@requires(PUBLIC)
def review(slug: str):
    found = public.public_review(get_session(), slug)
    if found is None:
        abort(404)
    return render_template("learning/public/review.html", found=found, publication=found.publication)
