"""Error pages that say what happened and what to do, and leak nothing about why."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: ("There was a problem with your request", "Go back, check what you entered and try again."),
    403: (
        "You do not have permission to see this page",
        "If you think you should, contact the partnership's business unit.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address.",
    ),
    405: ("That action is not possible here", "Go back and use the buttons on the page."),
    413: ("What you sent is too large", "Go back and send a smaller file or shorter text."),
    429: ("Too many attempts", "Wait 15 minutes, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you sent has been shared."),
}


def render_error(code: int, heading: str | None = None, advice: str | None = None):
    default_heading, default_advice = MESSAGES[code]
    return render_template(
        "errors/error.html", code=code, heading=heading or default_heading, advice=advice or default_advice
    ), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "Your form could not be sent",
            "The page was open too long or was not sent from this service. Go back, refresh the page and try again. "
            "If you had typed something, copy it before you refresh.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return render_error(error.code if error.code in MESSAGES else 500)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        return render_error(500)
