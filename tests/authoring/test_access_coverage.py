"""Every route of the authoring pages is in one of the access tables in tests/authoring/."""

import importlib
import pkgutil
from pathlib import Path

from tests.security.test_permissions import AUTHORING_BLUEPRINTS


def access_tables():
    """Every ``test_*_access`` module here: each holds a ROUTES table of who may use what."""
    folder = Path(__file__).parent
    names = sorted(info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.endswith("_access"))
    return [importlib.import_module(f"tests.authoring.{name}") for name in names]


def test_every_route_is_in_an_access_table(app):
    endpoints = {
        rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in AUTHORING_BLUEPRINTS
    }
    covered = {route.endpoint for table in access_tables() for route in table.ROUTES}
    missing = endpoints - covered
    assert not missing, (
        f"add these routes to an access table in tests/authoring/ with who may use them: {sorted(missing)}"
    )
    assert covered <= endpoints, f"the tables name routes that do not exist: {sorted(covered - endpoints)}"
