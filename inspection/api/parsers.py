"""Request bodies that are files in themselves (an ePhyto certificate's XML)."""

from django.conf import settings
from django.core.files.base import ContentFile
from rest_framework.parsers import BaseParser


class XmlBodyParser(BaseParser):
    """The raw body as a file, read no further than one byte past `PIF_UPLOAD_MAX_BYTES` (the service
    refuses what is larger). The XML is parsed later, safely, by the service."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(settings.PIF_UPLOAD_MAX_BYTES + 1) if stream else b""
        return {"file": ContentFile(body, name="ephyto.xml")}


class TextXmlBodyParser(XmlBodyParser):
    media_type = "text/xml"
