"""Routes: see the module's Blueprint."""

from flask import Blueprint

bp = Blueprint("rapid_review", __name__)
