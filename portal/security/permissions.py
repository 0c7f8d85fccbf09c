"""The one vocabulary for who may use what.

Every view declares its permission with :func:`requires`; ``tests/security/test_permissions.py``
walks the URL map and fails for any view that declares nothing. Object-level checks belong in
loaders, which answer 404 for anything the person may not know exists.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import wraps

from flask import abort, current_app
from flask_login import current_user

from portal.security.models import Role


class Access(enum.Enum):
    PUBLIC = "anyone, signed in or not"
    SIGNED_IN = "anyone signed in"
    # Part-way through signing in: the password is checked but the second factor is not.
    SIGNING_IN = "someone who has given their password"


PUBLIC = Access.PUBLIC
SIGNED_IN = Access.SIGNED_IN
SIGNING_IN = Access.SIGNING_IN

PERMISSION_ATTRIBUTE = "portal_permission"


def requires(*needs: Access | Role) -> Callable:
    """Declare who may use a view: ``PUBLIC``, ``SIGNED_IN``, ``SIGNING_IN`` or one or more roles."""
    if not needs:
        raise ValueError("requires() needs at least one permission")
    roles = {need.value for need in needs if isinstance(need, Role)}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if PUBLIC in needs or SIGNING_IN in needs:
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            if roles and current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        setattr(guarded, PERMISSION_ATTRIBUTE, needs)
        return guarded

    return decorator


def permission_of(view: Callable) -> tuple | None:
    return getattr(view, PERMISSION_ATTRIBUTE, None)
