"""Every route of the events, reflections and outbox pages is in one of their access tables."""

from tests.events import test_admin_access, test_event_access, test_reflection_access

EVENT_BLUEPRINTS = ("events", "event_admin", "reflections", "notifications")
TABLES = (test_event_access, test_admin_access, test_reflection_access)


def test_every_route_is_in_an_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in EVENT_BLUEPRINTS}
    covered = {route.endpoint for table in TABLES for route in table.ROUTES}
    missing = endpoints - covered
    assert not missing, f"add these routes to an access table in tests/events/ with who may use them: {sorted(missing)}"
    assert covered <= endpoints, f"the tables name routes that do not exist: {sorted(covered - endpoints)}"
