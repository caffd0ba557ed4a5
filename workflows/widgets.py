"""The photo input of the check forms. viewflow's Material renderer turns a file input into its
`<vf-field-file>` element, which passes on only the attributes it knows and drops `accept` and `capture`;
so the photos are rendered as a plain `<input type="file">` (registered in settings.VIEWFLOW)."""

from xml.etree import ElementTree

from django import forms
from viewflow.forms.renderers import WidgetRenderer


class PhotoInput(forms.FileInput):
    """Several photos, straight from the tablet's rear camera."""

    allow_multiple_selected = True

    def __init__(self, attrs=None):
        super().__init__({"accept": "image/*", "capture": "environment", **(attrs or {})})


class PhotoInputRenderer(WidgetRenderer):
    """`<div class="pif-photos">`: label, input, help text and the first error, server-rendered."""

    def create_root(self, context):
        widget, field = context["widget"], self.bound_field
        wrapper = ElementTree.SubElement(self.root, "div", {"class": "pif-photos"})
        input_id = widget["attrs"].get("id") or f"id_{widget['name']}"
        ElementTree.SubElement(wrapper, "label", {"for": input_id}).text = str(field.label)
        attrs = {"type": "file", "name": widget["name"], "id": input_id}
        for key in sorted(widget["attrs"], key=lambda k: k != "multiple"):
            value = widget["attrs"][key]
            if value is not False:
                attrs[key] = key if value is True else str(value)
        if field.help_text:
            attrs["aria-describedby"] = f"{input_id}_help"
        if field.errors:
            attrs["aria-invalid"] = "true"
        ElementTree.SubElement(wrapper, "input", attrs)
        if field.help_text:
            help_text = ElementTree.SubElement(wrapper, "p", {"class": "pif-photos__help", "id": f"{input_id}_help"})
            help_text.text = str(field.help_text)
        for error in field.errors:
            ElementTree.SubElement(wrapper, "p", {"class": "pif-photos__error", "role": "alert"}).text = str(error)
        return wrapper
