"""Every model, imported in one place so migrations and tests see the whole schema."""

from portal.consent.models import ConsentRecord
from portal.events.models import Event, Reflection, Registration
from portal.families.models import FamilyMember, FamilyUpdate
from portal.notifications.models import OutboxMessage
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
    "ConsentRecord",
    "Event",
    "FamilyMember",
    "FamilyUpdate",
    "IndependenceDeclaration",
    "Membership",
    "MonitoringRequest",
    "OutboxMessage",
    "PasswordResetToken",
    "RapidReview",
    "RecoveryCode",
    "Reflection",
    "Registration",
    "Review",
    "StageChange",
    "User",
    "UserSession",
]
