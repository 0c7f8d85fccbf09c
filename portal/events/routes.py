"""Practitioners' pages: events they can attend, registering, their registrations and certificates."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("events", __name__, url_prefix="/events")
