"""Every route of the family pages is in one of their access tables."""

from tests.families import test_family_access, test_staff_access

FAMILY_BLUEPRINTS = ("family", "family_admin")
TABLES = (test_family_access, test_staff_access)


def test_every_route_is_in_an_access_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in FAMILY_BLUEPRINTS}
    covered = {route.endpoint for table in TABLES for route in table.ROUTES}
    missing = endpoints - covered
    assert not missing, (
        f"add these routes to an access table in tests/families/ with who may use them: {sorted(missing)}"
    )
    assert covered <= endpoints, f"the tables name routes that do not exist: {sorted(covered - endpoints)}"
