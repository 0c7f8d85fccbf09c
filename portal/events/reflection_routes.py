"""Practitioners' reflections: private drafts, submitted and optionally shared with the review's author."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("reflections", __name__, url_prefix="/reflections")
