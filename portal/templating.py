"""Template filters shared by every page."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, request, url_for
from flask_login import current_user

from portal.db import LONDON
from portal.richtext import rich_text
from portal.security.models import Role

# The service navigation each role sees: (endpoint, label). Capabilities add their own pages here.
_MEMBER_PAGES = [("pages.home", "Home"), ("memberships.my_reviews", "My reviews"), ("security.account", "Your account")]
_PRACTITIONER_PAGES = [
    ("pages.home", "Home"),
    ("memberships.my_reviews", "My reviews"),
    ("events.list_events", "Events"),
    ("events.my_registrations", "My events"),
    ("reflections.list_reflections", "Reflections"),
    ("requests.mine", "Requests"),
    ("learning.briefings", "Briefings"),
    ("security.account", "Your account"),
]
NAVIGATION: dict[Role, list[tuple[str, str]]] = {
    Role.COORDINATOR: [
        ("pages.home", "Home"),
        ("reviews.list_reviews", "Reviews"),
        ("event_admin.manage", "Events"),
        ("clocks.overview", "Clocks"),
        ("clocks.closure_days", "Closure days"),
        ("learning.overdue", "Overdue actions"),
        ("security.account", "Your account"),
    ],
    Role.PRACTITIONER: _PRACTITIONER_PAGES,
    Role.AUTHOR: _MEMBER_PAGES,
    Role.FAMILY: _MEMBER_PAGES,
}


def long_date(day: date | datetime | None) -> str:
    """A date as every page writes it: '18 December 2026' (a stored time is read in Europe/London)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(LONDON).date()
    return f"{day.day} {day:%B %Y}"


def london(value: datetime | None) -> str:
    """A stored UTC time as people in England read it: '3 March 2026 at 2:05pm'."""
    if value is None:
        return ""
    local = value.astimezone(LONDON)
    return f"{local.day} {local:%B %Y} at {local.hour % 12 or 12}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def minutes_in_words(minutes: int) -> str:
    """60 → '1 hour', 90 → '90 minutes', 120 → '2 hours'."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def browser_name(user_agent: str | None) -> str:
    """A rough, readable name for a browser from its user agent string."""
    agent = user_agent or ""
    for marker, name in (
        ("Edg/", "Microsoft Edge"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if marker in agent:
            platform = next((p for p in ("Windows", "Mac OS", "Android", "iPhone", "Linux") if p in agent), None)
            return f"{name} on {platform}" if platform else name
    return "Unknown browser"


def service_navigation() -> list[dict]:
    """The navigation items for the signed-in person's role, with the current page marked."""
    if not current_user.is_authenticated:
        return []
    return [
        {"href": url_for(endpoint), "text": label, "current": request.endpoint == endpoint}
        for endpoint, label in NAVIGATION[current_user.role_enum]
    ]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["service_navigation"] = service_navigation
    app.add_template_filter(london)
    app.add_template_filter(rich_text)
    app.add_template_filter(long_date)
    app.add_template_filter(browser_name)
    app.add_template_filter(minutes_in_words)
