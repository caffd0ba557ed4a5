"""Request bodies: JSON no deeper than any real payload, and bodies that are files in themselves (an ePhyto
certificate's XML)."""

import math

from django.conf import settings
from django.core.files.base import ContentFile
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

# A CHED Part I is 4 levels deep; 32 leaves room for any real payload and none for a parser-crashing one.
JSON_MAX_DEPTH = 32


class BoundedJSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing with a 400 a document nested deeper than `JSON_MAX_DEPTH` (Python's json
    module recurses once per level: `[[[[...]]]]` would end in a RecursionError, a 500) and a number too
    large for a float (`1e400` parses as infinity, which no database column or JSON column stores)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_too_deep()) from None
        problem = _json_problem(parsed)
        if problem:
            raise ParseError(problem)
        return parsed


def _too_deep() -> str:
    return f"JSON parse error - the document is nested more than {JSON_MAX_DEPTH} levels deep."


def _json_problem(value) -> str | None:
    """Why a parsed document is refused, or None; walked with a stack, not recursion."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, float) and not math.isfinite(node):
            return "JSON parse error - a number is too large."
        if isinstance(node, dict):
            node = node.values()
        elif not isinstance(node, list):
            continue
        if depth > JSON_MAX_DEPTH:
            return _too_deep()
        stack.extend((child, depth + 1) for child in node)
    return None


class XmlBodyParser(BaseParser):
    """The raw body as a file, read no further than one byte past `PIF_UPLOAD_MAX_BYTES` (the service
    refuses what is larger). The XML is parsed later, safely, by the service."""

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read(settings.PIF_UPLOAD_MAX_BYTES + 1) if stream else b""
        return {"file": ContentFile(body, name="ephyto.xml")}


class TextXmlBodyParser(XmlBodyParser):
    media_type = "text/xml"
