from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0028_one_token_system"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="next_attempt_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", True)), fields=["created_at"], name="notification_pending"
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("sent_at__isnull", True)), fields=["created_at"], name="webhook_pending"
            ),
        ),
    ]
