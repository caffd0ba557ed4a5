"""What an operator watches: `/metrics` in Prometheus' text format (`metrics`), a request id in every log line
and carried into the Celery tasks a request queues (`request_id`), JSON logs when DEBUG is off, and error
reports to Sentry when `SENTRY_DSN` is set (`pif/settings.py`)."""
