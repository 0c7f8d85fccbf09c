"""Every model, imported in one place so migrations and tests see the whole schema."""

from portal.authoring.models import (
    AnswerFile,
    ContributionRequest,
    Draft,
    DraftComment,
    DraftRead,
    DraftResponse,
    DraftSection,
    DraftShare,
    HitWaiver,
    InboxItem,
    InboxNote,
    PanelNote,
    ProtectedTerm,
    Publication,
    RequestAnswer,
    Theme,
)
from portal.consent.models import ConsentRecord
from portal.events.models import Event, Reflection, Registration
from portal.families.models import ContributionFile, FamilyContribution, FamilyMember, FamilyUpdate
from portal.learning.models import ActionUpdate, Briefing, BriefingRead, LearningAction, LearningPoint
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
    "ActionUpdate",
    "Agency",
    "AgencyReturnRequest",
    "AnswerFile",
    "AuditEvent",
    "Briefing",
    "BriefingRead",
    "ClosureDay",
    "ConsentRecord",
    "ContributionFile",
    "ContributionRequest",
    "Draft",
    "DraftComment",
    "DraftRead",
    "DraftResponse",
    "DraftSection",
    "DraftShare",
    "Event",
    "FamilyContribution",
    "FamilyMember",
    "FamilyUpdate",
    "HitWaiver",
    "InboxItem",
    "InboxNote",
    "IndependenceDeclaration",
    "LearningAction",
    "LearningPoint",
    "Membership",
    "MonitoringRequest",
    "OutboxMessage",
    "PanelNote",
    "PasswordResetToken",
    "ProtectedTerm",
    "Publication",
    "RapidReview",
    "RecoveryCode",
    "Reflection",
    "Registration",
    "RequestAnswer",
    "Review",
    "StageChange",
    "Theme",
    "User",
    "UserSession",
]
