"""Every model, imported in one place so migrations and tests see the whole schema."""

from portal.reviews.models import (
    AgencyReturnRequest,
    ClosureDay,
    IndependenceDeclaration,
    Membership,
    MonitoringRequest,
    RapidReview,
    Review,
    StageChange,
)
from portal.security.audit import AuditEvent
from portal.security.models import Agency, PasswordResetToken, RecoveryCode, User, UserSession

__all__ = [
    "Agency",
    "AgencyReturnRequest",
    "AuditEvent",
    "ClosureDay",
    "IndependenceDeclaration",
    "Membership",
    "MonitoringRequest",
    "PasswordResetToken",
    "RapidReview",
    "RecoveryCode",
    "Review",
    "StageChange",
    "User",
    "UserSession",
]
