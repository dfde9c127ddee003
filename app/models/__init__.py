"""Database models, one module per aggregate; Tortoise reads them all from this package."""
from app.models.audit import AuditEvent
from app.models.chat import DIRECT, ROOM, THREAD, Conversation, Membership, Message, Reaction
from app.models.feedback import Feedback
from app.models.files import Attachment, Blob, FileJob
from app.models.invitation import Invitation, InvitationUse
from app.models.links import LinkPreview, SiteSetting
from app.models.notify import Mention, PushCount, PushDelivery, PushSubscription
from app.models.reserved import ReservedName
from app.models.reset_token import PasswordResetToken, password_fingerprint
from app.models.search import MessageSearch
from app.models.session import UserSession, describe_user_agent, hash_token
from app.models.user import User

__all__ = [
    "DIRECT", "ROOM", "THREAD", "Conversation", "Membership", "Message", "Reaction",
    "AuditEvent", "Attachment", "Blob", "Feedback", "FileJob",
    "Invitation", "InvitationUse", "LinkPreview", "SiteSetting", "Mention", "MessageSearch",
    "PushCount", "PushDelivery", "PushSubscription", "PasswordResetToken", "ReservedName",
    "User",
    "UserSession",
    "describe_user_agent", "hash_token", "password_fingerprint",
]
