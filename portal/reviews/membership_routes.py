"""Routes: see the module's Blueprint."""

from flask import Blueprint

bp = Blueprint("memberships", __name__)
