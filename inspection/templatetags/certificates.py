"""Template helpers for the bilingual certificates."""

from django import template
from django.utils.html import format_html

from inspection.certificates.boxes import BOXES

register = template.Library()


@register.filter
def bi(value):
    """A `Bi` (French, English) as French then English in italics; other values as they are."""
    if value is None or value == "":
        return "–"
    fr, en = getattr(value, "fr", None), getattr(value, "en", None)
    if fr is None:
        return value
    if fr == en:
        return fr
    return format_html('{} / <span class="en">{}</span>', fr, en)


@register.simple_tag
def label(no, fr, en):
    """A numbered box label after the official CHED model: `I.1 Expéditeur / Consignor`."""
    if no:
        return format_html('<span class="label"><b>{}</b> {} / <i>{}</i></span>', no, fr, en)
    return format_html('<span class="label">{} / <i>{}</i></span>', fr, en)


@register.simple_tag(takes_context=True)
def box(context, name):
    """The label of a CHED box named in `inspection.certificates.boxes`, with its official number; without it on
    a national document (`national` in the context), which is not a CHED."""
    entry = BOXES[name]
    return label("" if context.get("national") else entry.number, entry.fr, entry.en)
