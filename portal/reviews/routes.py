"""Routes: see the module's Blueprint."""

from flask import Blueprint

bp = Blueprint("reviews", __name__)
