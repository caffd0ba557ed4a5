from django.db import models


class Heartbeat(models.Model):
    """One row (pk 1): when beat last sent the heartbeat task, and when a worker last ran it. `/healthz` reads
    it; see `inspection.services.heartbeat` for who writes which field."""

    beat_sent_at = models.DateTimeField(null=True, blank=True)
    worker_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"beat {self.beat_sent_at}, worker {self.worker_seen_at}"
