"""Every model, imported in one place so migrations and tests see the whole schema."""

from portal.security.audit import AuditEvent
from portal.security.models import Agency, PasswordResetToken, RecoveryCode, User, UserSession

__all__ = ["Agency", "AuditEvent", "PasswordResetToken", "RecoveryCode", "User", "UserSession"]
