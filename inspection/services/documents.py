"""Accompanying documents uploaded by importers: PDF, JPEG or PNG, recognised by their content, never by
their name or declared type. PDFs that are encrypted or carry scripts, launch or submit actions or embedded
files are refused, and images that do not decode to the end: an inspector opens these files on a BCP tablet."""

import hashlib
import io
import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from inspection.atomic import atomic_service
from inspection.audit import AuditAction, audit_record
from inspection.errors import NotFound, NotPermitted, TransitionNotAllowed, UploadRefused
from inspection.models import AccompanyingDocument, Consignment, ConsignmentStatus, DocumentType
from inspection.outbox import after_commit
from inspection.services.consignments import _operator_of
from inspection.services.files import field_file_store
from inspection.services.images import IMAGE_MAX_PIXELS, ImageTooLarge, ImageUnreadable, image_reencode

logger = logging.getLogger(__name__)

# Magic bytes of the accepted formats: content type and the extension of the stored name.
SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
# Documents can still be added while the BCP has not decided: the documentary check may ask for one.
OPEN_STATUSES = {
    ConsignmentStatus.DRAFT,
    ConsignmentStatus.SUBMITTED,
    ConsignmentStatus.CHECKING,
    ConsignmentStatus.AWAITING_LAB,
    ConsignmentStatus.AWAITING_DECISION,
}
# PDF names that make a viewer run code, open other programs or carry other files.
ACTIVE_KEYS = {"/JS", "/JavaScript", "/EmbeddedFile", "/EmbeddedFiles", "/XFA", "/RichMedia", "/Launch"}
# Actions are refused when they run code (JavaScript), open another program or file (Launch, GoToR: a
# file beside this one, GoToE: an embedded one), send the form's content somewhere (SubmitForm) or fill it
# from elsewhere (ImportData). /URI links stay: ordinary certificates and invoices carry web links, and a
# viewer asks before following one.
ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/RichMediaExecute", "/SubmitForm", "/GoToR", "/GoToE"}
PDF_MAX_OBJECTS = 200_000
# The accepted images' Pillow decoder: the only one tried on a file that sniffed as that type.
IMAGE_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
MEGAPIXELS = IMAGE_MAX_PIXELS // 1_000_000


def upload_read(file, *, field: str = "file") -> bytes:
    """The bytes of an uploaded file, refused before reading when larger than `PIF_UPLOAD_MAX_BYTES`."""
    limit = settings.PIF_UPLOAD_MAX_BYTES
    if file is None:
        raise UploadRefused({field: [_("Choose a file to upload.")]})
    if (getattr(file, "size", None) or 0) > limit:
        raise UploadRefused({field: [_too_large(limit)]})
    data = file.read(limit + 1)
    if len(data) > limit:
        raise UploadRefused({field: [_too_large(limit)]})
    if not data:
        raise UploadRefused({field: [_("The file is empty.")]})
    return data


def upload_limit_mb(limit: int) -> str:
    """An upload limit in bytes as the MB figure the refusals quote ("10", "2.5")."""
    return f"{limit / 1024 / 1024:.1f}".rstrip("0").rstrip(".")


def _too_large(limit: int) -> str:
    return _("The file is too large: at most %(size)s MB.") % {"size": upload_limit_mb(limit)}


def document_sniff(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) from the first bytes, or None when the format is not accepted."""
    for magic, content_type, extension in SIGNATURES:
        if data.startswith(magic):
            return content_type, extension
    return None


def pdf_problem(data: bytes) -> str | None:
    """Why this PDF is refused, or None. Parsed with pypdf, and every object reachable from the trailer is
    looked at, so a name hidden in a compressed object stream or spelt with #-escapes is still found."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            return _("Encrypted or password-protected PDFs are refused: upload the document without protection.")
        seen: set[tuple[int, int]] = set()
        stack = [reader.trailer]
        while stack:
            obj = stack.pop()
            if isinstance(obj, IndirectObject):
                key = (obj.idnum, obj.generation)
                if key in seen:
                    continue
                seen.add(key)
                if len(seen) > PDF_MAX_OBJECTS:
                    return _("This PDF is too complex to be checked: please simplify it or print it to a new PDF.")
                obj = obj.get_object()
            if isinstance(obj, DictionaryObject):
                if ACTIVE_KEYS & set(obj.keys()) or obj.get("/S") in ACTIVE_ACTIONS:
                    return _(
                        "PDFs containing scripts, launch or form-submission actions, links to other files or "
                        "embedded files are refused: print the document to a plain PDF and upload that."
                    )
                stack.extend(v for k, v in obj.items() if k != "/Parent")
            elif isinstance(obj, ArrayObject):
                stack.extend(obj)
    except Exception:  # any parser failure on hostile or broken input means: not a PDF we can vouch for
        logger.info("PDF refused: unreadable", exc_info=True)
        return _("This PDF cannot be read: it is damaged or not a real PDF.")
    return None


def document_check(data: bytes) -> tuple[str, str, bytes]:
    """(content type, extension, the bytes to store) of an acceptable document, or `UploadRefused` with the
    reason. A PDF is stored as uploaded (its signature, if any, must stay intact) once `pdf_problem` finds
    nothing; an image must decode to the end and is stored re-encoded, without its metadata."""
    sniffed = document_sniff(data)
    if sniffed is None:
        raise UploadRefused({"file": [_("Only PDF, JPEG and PNG files are accepted (checked on the content).")]})
    content_type, extension = sniffed
    if content_type == "application/pdf":
        problem = pdf_problem(data)
        if problem:
            raise UploadRefused({"file": [problem]})
        return content_type, extension, data
    try:
        clean = image_reencode(data, formats=(IMAGE_FORMATS[content_type],))
    except ImageTooLarge:
        raise UploadRefused(
            {"file": [_("This image has too many pixels: at most %(max)s megapixels.") % {"max": MEGAPIXELS}]}
        ) from None
    except ImageUnreadable:
        logger.info("Image refused: unreadable", exc_info=True)
        raise UploadRefused({"file": [_("This image cannot be read: it is damaged or not a real image.")]}) from None
    return clean.content_type, clean.extension, clean.data


def pdf_upload_check(file, *, field: str) -> ContentFile:
    """An uploaded PDF that passes the documents' checks (content, not name: no script, no encryption, within
    `PIF_UPLOAD_MAX_BYTES`), under a random name; `UploadRefused` on `field` otherwise. For labs' reports."""
    data = upload_read(file, field=field)
    if document_sniff(data) != ("application/pdf", ".pdf"):
        raise UploadRefused({field: [_("Only PDF files are accepted (checked on the content).")]})
    problem = pdf_problem(data)
    if problem:
        raise UploadRefused({field: [problem]})
    return ContentFile(data, name=secrets.token_hex(16) + ".pdf")


def _safe_filename(name: str, extension: str) -> str:
    """The uploaded name, for the download only: no path, no control or quoting characters."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c.isprintable() and c not in '"<>:;|?*').strip(" .")[:150]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    return f"{stem or 'document'}{extension}"


@atomic_service
def document_upload(
    *, actor, consignment: Consignment, document_type: str, file, reference: str = ""
) -> AccompanyingDocument:
    """Attach an accompanying document's file to a consignment of the actor's company, before the BCP
    decides. Only PDF, JPEG and PNG, recognised by content, within `PIF_UPLOAD_MAX_BYTES`; a PDF must be
    neither encrypted nor script-bearing. Stored in the private storage under a random name."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    if _operator_of(actor).pk != consignment.operator_id:
        raise NotPermitted(_("This consignment belongs to another company."))
    if consignment.status not in OPEN_STATUSES:
        raise TransitionNotAllowed(
            _("Documents can no longer be added: this consignment is %(status)s.")
            % {"status": consignment.get_status_display().lower()}
        )
    kind = DocumentType.objects.in_force(timezone.localdate()).filter(code=document_type or "").first()
    if kind is None:
        raise UploadRefused({"type": [_("Choose a document type from the list.")]})
    content_type, extension, data = document_check(upload_read(file))
    return _document_store(
        actor=actor,
        consignment=consignment,
        document_type=kind,
        reference=(reference or "").strip()[:100] or _safe_filename(getattr(file, "name", ""), extension)[:100],
        data=data,
        content_type=content_type,
        filename=_safe_filename(getattr(file, "name", ""), extension),
        extension=extension,
    )


def documents_removable(consignment: Consignment) -> bool:
    """Documents leave a consignment only while it is a draft: once Part I is submitted, the BCP works from
    what was sent."""
    return consignment.is_draft


@atomic_service
def document_remove(*, actor, consignment: Consignment, document_id: int) -> None:
    """Remove an accompanying document, its listing and its file, from a draft of the actor's company. Once
    Part I is submitted the BCP works from what was sent: a wrong document is then corrected by adding
    another, never by taking one away. The file is deleted once the removal is committed."""
    consignment = Consignment.objects.select_for_update(no_key=True).get(pk=consignment.pk)
    if _operator_of(actor).pk != consignment.operator_id:
        raise NotPermitted(_("This consignment belongs to another company."))
    document = consignment.documents.select_related("document_type").filter(pk=document_id).first()
    if document is None:
        raise NotFound(_("This consignment has no such document."))
    if not documents_removable(consignment):
        raise TransitionNotAllowed(
            _("Documents can only be removed from a draft. Upload the corrected document instead.")
        )
    stored, storage = document.file.name, document.file.storage
    audit_record(
        actor=actor,
        action=AuditAction.DOCUMENT_REMOVED,
        consignment=consignment,
        data={
            "document_id": document.pk,
            "type": document.document_type.code,
            "reference": document.reference,
            "filename": document.filename,
            "sha256": document.sha256,
        },
    )
    document.delete()
    if stored:  # a file that cannot be deleted is left for the sweep (`sweep_files`): the removal stands
        after_commit(storage.delete, stored, what=f"delete the removed document's file {stored}")


def _document_store(
    *,
    actor,
    consignment,
    document_type,
    reference,
    data: bytes,
    content_type: str,
    filename: str,
    extension: str,
    document: AccompanyingDocument | None = None,
    audit: dict | None = None,
) -> AccompanyingDocument:
    """Write the file and its row (a new one, or the listed `document` it belongs to) together: if the
    transaction rolls back, the file is removed (`field_file_store`)."""
    document = document or AccompanyingDocument(consignment=consignment)
    document.document_type = document_type
    document.reference = reference
    document.filename = filename
    document.content_type = content_type
    document.size = len(data)
    document.sha256 = hashlib.sha256(data).hexdigest()
    document.uploaded_by = actor
    document.uploaded_at = timezone.now()
    field_file_store(document.file, secrets.token_hex(16) + extension, ContentFile(data))
    document.save()
    audit_record(
        actor=actor,
        action=AuditAction.DOCUMENT_UPLOADED,
        consignment=consignment,
        data={
            "document_id": document.pk,
            "type": document_type.code,
            "reference": reference,
            "content_type": content_type,
            "size": len(data),
            "sha256": document.sha256,
            **(audit or {}),
        },
    )
    return document


def documents_carry_over(*, actor, old: Consignment, new: Consignment) -> list[AccompanyingDocument]:
    """A replacement CHED (`consignment_replace`) keeps the files uploaded to the CHED it replaces, as TRACES
    copies a replaced certificate's attachments: each file is written again (a copy of its own: the old CHED keeps
    its evidence) on the new CHED's listed document of the same type and reference, or on a row of its own when
    the new Part I no longer lists it. Audited on the new CHED as uploads carried from the old one. In the
    replacement's transaction."""
    carried = []
    for document in old.documents.select_related("document_type").exclude(file=""):
        try:
            with document.file.open("rb") as stored:
                data = stored.read()
        except OSError:  # lost from the storage: the replacement goes on, the importer uploads it again
            logger.warning("%s: the file of document %s could not be read to carry it over", old, document.pk)
            continue
        listed = new.documents.filter(document_type=document.document_type, reference=document.reference, file="")
        extension = "." + document.file.name.rsplit(".", 1)[-1] if "." in document.file.name else ""
        carried.append(
            _document_store(
                actor=actor,
                consignment=new,
                document_type=document.document_type,
                reference=document.reference,
                data=data,
                content_type=document.content_type,
                filename=document.filename,
                extension=extension,
                document=listed.first(),
                audit={
                    "carried_from": old.reference,
                    "first_uploaded_at": document.uploaded_at.isoformat() if document.uploaded_at else None,
                },
            )
        )
    return carried
