"""A picker from reference data, with search, for long lists on a tablet (the refusal reasons).

viewflow's Material renderer draws a `CheckboxSelectMultiple` as its `<vf-field-checkbox-select>` element,
which draws no checkbox at all for our choices (viewflow 2.4), so an officer could not pick a reason. This
widget is rendered server-side instead (registered in settings.VIEWFLOW): native checkboxes with their labels
as 48 px rows, and a search box that `static/pif/pickers.js` uses to hide the rows that do not match."""

from xml.etree import ElementTree

from django import forms
from django.utils.translation import gettext as _
from viewflow.forms.renderers import WidgetRenderer


class SearchableCheckboxes(forms.CheckboxSelectMultiple):
    """Several choices from a long list of reference data."""


class SearchableCheckboxesRenderer(WidgetRenderer):
    def create_root(self, context):
        widget, field = context["widget"], self.bound_field
        name = widget["name"]
        box = ElementTree.SubElement(self.root, "fieldset", {"class": "pif-picker", "id": f"id_{name}"})
        ElementTree.SubElement(box, "legend").text = str(field.label)
        ElementTree.SubElement(
            box,
            "input",
            {
                "type": "search",
                "class": "pif-picker__search",
                "aria-label": _("Search: %(list)s") % {"list": field.label},
                "placeholder": _("Search…"),
                "autocomplete": "off",
            },
        )
        rows = ElementTree.SubElement(box, "ul", {"class": "pif-picker__options"})
        for _group, options, _index in widget["optgroups"]:
            for option in options:
                row = ElementTree.SubElement(rows, "li")
                label = ElementTree.SubElement(row, "label")
                attrs = {"type": "checkbox", "name": name, "value": str(option["value"])}
                attrs["id"] = option["attrs"].get("id") or f"id_{name}_{option['index']}"
                if option["selected"]:
                    attrs["checked"] = "checked"
                ElementTree.SubElement(label, "input", attrs).tail = str(option["label"])
        for error in field.errors:
            ElementTree.SubElement(box, "p", {"class": "pif-picker__error", "role": "alert"}).text = str(error)
        return box
