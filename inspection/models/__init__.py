from .audit import AuditEvent
from .consignments import (
    AccompanyingDocument,
    CommodityLine,
    Consignment,
    ConsignmentStatus,
    Container,
    ReferenceSequence,
    TransportMode,
)
from .notifications import Notification
from .operators import Membership, Operator
from .reference import (
    Bcp,
    BcpApproval,
    ChedType,
    Commodity,
    DecisionCode,
    DocumentType,
    Holiday,
    Measure,
    PackageType,
    Purpose,
    RefusalReason,
)

__all__ = [
    "AccompanyingDocument",
    "AuditEvent",
    "Bcp",
    "BcpApproval",
    "ChedType",
    "Commodity",
    "CommodityLine",
    "Consignment",
    "ConsignmentStatus",
    "Container",
    "DecisionCode",
    "DocumentType",
    "Holiday",
    "Measure",
    "Membership",
    "Notification",
    "Operator",
    "PackageType",
    "Purpose",
    "ReferenceSequence",
    "RefusalReason",
    "TransportMode",
]
