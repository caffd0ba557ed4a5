from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionConfig(AppConfig):
    name = "inspection"
    verbose_name = _("Border inspection")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from celery.signals import before_task_publish, worker_process_init

        from . import checks as _checks  # noqa: F401  (registers the system checks)
        from .certificates import checks  # noqa: F401
        from .observability import request_id  # noqa: F401  (carries the request id into Celery tasks)

        worker_process_init.connect(_warm_certificate_renderer, weak=False)
        before_task_publish.connect(_heartbeat_published, sender="inspection.tasks.heartbeat", weak=False)


def _warm_certificate_renderer(**kwargs):
    """Each worker process loads fonts and styles once, before its first certificate."""
    from .certificates.render import warm

    warm()


def _heartbeat_published(sender=None, **kwargs):
    """Beat publishing the heartbeat records its send time (see `inspection.services.heartbeat`)."""
    from .services.heartbeat import on_before_task_publish

    on_before_task_publish(sender=sender, **kwargs)
