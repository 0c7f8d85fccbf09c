"""Safeguarding Review Portal."""

from __future__ import annotations

from flask import Flask
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import PROJECT_ROOT, check_production, instance_dir, load_config


def create_app(config: dict | None = None) -> Flask:
    """Build the portal: settings from the environment, overridden by ``config`` (used by tests)."""
    app = Flask(
        __name__,
        instance_path=str(instance_dir()),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.update(load_config())
    app.config.update(config or {})
    check_production(app.config)

    if app.config["TRUSTED_PROXIES"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=app.config["TRUSTED_PROXIES"], x_proto=1, x_host=1)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    from portal import db, errors, templating
    from portal.extensions import csrf, limiter, login_manager
    from portal.security import auth, headers, sso
    from portal.security.sessions import ServerSessionInterface

    db.init_app(app)
    app.session_interface = ServerSessionInterface()
    csrf.init_app(app)
    auth.init_login_manager(app, login_manager)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    limiter.init_app(app)
    sso.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    templating.init_app(app)

    from portal.authoring import (
        anonymisation_routes,
        draft_routes,
        inbox_routes,
        prepublication_routes,
        publication_routes,
        request_routes,
    )
    from portal.cli import register_commands
    from portal.events import manage_routes, reflection_routes
    from portal.events import routes as event_routes
    from portal.families import invitation_routes
    from portal.families import routes as family_routes
    from portal.families import staff_routes as family_staff_routes
    from portal.learning import public_routes as learning_public_routes
    from portal.learning import routes as learning_routes
    from portal.notifications import routes as notification_routes
    from portal.pages.routes import bp as pages_bp
    from portal.reviews import clock_routes, membership_routes, rapid_review_routes
    from portal.reviews import routes as review_routes
    from portal.security.routes import bp as security_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(security_bp)
    for module in (
        review_routes,
        rapid_review_routes,
        membership_routes,
        clock_routes,
        event_routes,
        manage_routes,
        reflection_routes,
        notification_routes,
        family_routes,
        family_staff_routes,
        invitation_routes,
        request_routes,
        inbox_routes,
        draft_routes,
        anonymisation_routes,
        prepublication_routes,
        publication_routes,
        learning_routes,
        learning_public_routes,
    ):
        app.register_blueprint(module.bp)
    register_commands(app)
    return app
