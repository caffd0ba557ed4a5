from django.utils.translation import gettext_lazy as _
from viewflow.urls import Site
from viewflow.workflow.flow import FlowAppViewset

from .flows import InspectionFlow

site = Site(
    title=_("Border control post"),
    viewsets=[FlowAppViewset(InspectionFlow, icon="local_shipping")],
)
