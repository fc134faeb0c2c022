"""All models, importable from one place: ``from broadcast.db.models import Station``."""

from .areas import Area, AreaOutline, AreaSuccession, Level, Structure
from .audit import AuditLog
from .base import Base, utcnow
from .content import AudioAsset, ContentSource, ItemClass, ItemStatus, LexiconEntry, NewsItem, RenderState
from .delivery import (
    AiringState,
    CommandKind,
    CommandState,
    Confirmation,
    ConfirmationStatus,
    Delivery,
    DeliveryState,
    OccurrenceAiring,
    PlaybackEvent,
    PlaybackOutcome,
    StationCommand,
    Webhook,
    WebhookDelivery,
)
from .emergency import EmergencyBroadcast, EmergencyState, EmergencyTarget, emergency_areas
from .exchange import ReceivedBulletin, SourceKind, StatisticsPush, UpstreamSource
from .library import LibraryClip
from .live import LiveEnd, LiveSession, LiveState, LiveTarget, live_areas
from .scheduling import (
    CompileRequest,
    OverflowPolicy,
    Placement,
    PlacementTarget,
    Playlist,
    PriorityOrder,
    Slot,
    StationManifest,
)
from .stations import Station, StationStatus
from .tasks import QueuedTask
from .users import ApiToken, RecoveryCode, Role, User

__all__ = [
    "AiringState", "ApiToken", "Area", "CommandKind", "CommandState", "OccurrenceAiring", "StationCommand",
    "QueuedTask", "AreaOutline", "AreaSuccession", "AudioAsset", "AuditLog", "Base", "Confirmation",
    "ConfirmationStatus", "ContentSource", "Delivery", "DeliveryState", "EmergencyBroadcast", "EmergencyState",
    "EmergencyTarget", "emergency_areas", "ItemClass", "ItemStatus", "LexiconEntry",
    "LibraryClip", "Level", "NewsItem", "RenderState",
    "OverflowPolicy", "Placement", "PlacementTarget", "PlaybackEvent", "PlaybackOutcome", "Playlist",
    "CompileRequest", "PriorityOrder", "StationManifest",
    "ReceivedBulletin", "SourceKind", "StatisticsPush", "UpstreamSource",
    "LiveEnd", "LiveSession", "LiveState", "LiveTarget", "live_areas",
    "RecoveryCode", "Role", "Slot", "Station", "StationStatus", "Structure", "User", "Webhook", "WebhookDelivery",
    "utcnow",
]
