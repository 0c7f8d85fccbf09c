"""Routes: see the module's Blueprint."""

from flask import Blueprint

bp = Blueprint("clocks", __name__)
