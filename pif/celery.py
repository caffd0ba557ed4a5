"""The Celery application. Configuration comes from Django settings (`CELERY_*`)."""

import copy
import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pif.settings")

app = Celery("pif")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def logging_from_settings(logfile=None, **kwargs):
    """The worker and beat log like the web tier, from Django's LOGGING: JSON lines on stdout when DEBUG is off,
    each with the request id the task carries. Without this receiver Celery would put its own plain-text handler on
    the root logger. `--logfile` (make run's var/worker.log) still chooses where the lines go."""
    from django.conf import settings

    config = copy.deepcopy(settings.LOGGING)
    if logfile:
        console = config["handlers"]["console"]
        config["handlers"]["console"] = {
            "class": "logging.FileHandler",
            "filename": logfile,
            "formatter": console["formatter"],
            "filters": console.get("filters", []),
        }
    logging.config.dictConfig(config)
