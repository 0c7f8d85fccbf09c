"""The session time limits as a rule, checked over many times with hypothesis."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from portal.security.models import UserSession
from portal.security.sessions import session_expiry_reason

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=12)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
minutes = st.integers(min_value=0, max_value=24 * 60)


@given(age=minutes, idle_for=minutes)
def test_a_session_lives_until_30_minutes_idle_or_12_hours_old(age, idle_for):
    idle_for = min(idle_for, age)  # a session cannot have been idle longer than it has existed
    record = UserSession(created_at=NOW - timedelta(minutes=age), last_seen_at=NOW - timedelta(minutes=idle_for))
    reason = session_expiry_reason(record, NOW, IDLE, LIFETIME)
    if idle_for > 30:
        assert reason == "idle"
    elif age > 12 * 60:
        assert reason == "expired"
    else:
        assert reason is None
