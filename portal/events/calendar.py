"""iCalendar entries for events: one UID per event, and a SEQUENCE per person that only goes up.

Calendars replace an entry when a message with the same UID carries a higher SEQUENCE, and drop it
on METHOD:CANCEL; so every message to a person takes the next number from their registration.
"""

from __future__ import annotations

from datetime import datetime

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from portal.events.models import Event, Mode, Registration
from portal.notifications.outbox import Attachment
from portal.richtext import plain_text

PRODUCT_ID = "-//Safeguarding Review Portal//Learning events//EN"


def calendar_entry(
    event: Event, registration: Registration, *, organiser: str, now: datetime, cancel: bool = False
) -> str:
    """The .ics text for one person: a request (new or updated entry) or a cancellation."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "REQUEST")
    entry = CalendarEvent()
    entry.add("uid", event.uid)
    entry.add("sequence", registration.calendar_sequence)
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    entry.add("status", "CANCELLED" if cancel else "CONFIRMED")
    description = plain_text(event.summary_html)
    if event.mode == Mode.ONLINE.value:
        entry.add("location", "Online")
        if not cancel and event.joining_link:
            description = f"{description}\n\nJoin online: {event.joining_link}".strip()
    elif event.venue:
        entry.add("location", event.venue)
    if description:
        entry.add("description", description)
    entry.add("organizer", f"mailto:{organiser}")
    entry.add("attendee", f"mailto:{registration.user.email}", parameters={"CN": registration.user.name})
    calendar.add_component(entry)
    return calendar.to_ical().decode()


def calendar_attachment(
    event: Event, registration: Registration, *, organiser: str, now: datetime, cancel: bool = False
) -> Attachment:
    method = "CANCEL" if cancel else "REQUEST"
    return Attachment(
        filename="cancelled.ics" if cancel else "event.ics",
        content_type=f"text/calendar; method={method}",
        content=calendar_entry(event, registration, organiser=organiser, now=now, cancel=cancel),
    )
