"""Extension objects, created once here and bound to the app in ``create_app``."""

from flask import request
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect


def client_ip() -> str:
    return request.remote_addr or "unknown"


csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=client_ip, default_limits=[], headers_enabled=False)
