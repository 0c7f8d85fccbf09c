"""The outbox as coordinators see it: messages the portal could not send."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
