"""Coordinators' pages: creating, publishing and cancelling events, registrations, attendance."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("event_admin", __name__, url_prefix="/events")
