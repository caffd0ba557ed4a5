from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class WorkflowsConfig(AppConfig):
    name = "workflows"
    verbose_name = _("Inspection workflow")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from inspection.ports import ports_connect

        from .export_steps import export_flow_start, export_step_complete
        from .flows import InspectionFlow
        from .lab import lab_result_receive
        from .roles import grant_role_permissions
        from .steps import inspection_lock, inspection_stop
        from .timers import arrival_deadlines_rearm

        post_migrate.connect(grant_role_permissions, sender=self, dispatch_uid="workflows.grant_role_permissions")
        # what the domain asks of the workflow (it never imports it): start an inspection, pass on a lab result,
        # move the deadlines that count from the arrival; start an export application's flow, perform its steps
        ports_connect(
            start_inspection=lambda consignment: InspectionFlow.submit.run(consignment=consignment),
            receive_lab_result=lab_result_receive,
            arrival_changed=arrival_deadlines_rearm,
            start_export=export_flow_start,
            export_step=export_step_complete,
            inspection_stop=inspection_stop,
            inspection_lock=inspection_lock,
            start_decision=lambda consignment: InspectionFlow.split_part.run(consignment=consignment),
        )
