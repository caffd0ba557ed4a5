from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0023_lab_reports_private"),
    ]

    operations = [
        migrations.CreateModel(
            name="Heartbeat",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("beat_sent_at", models.DateTimeField(blank=True, null=True)),
                ("worker_seen_at", models.DateTimeField(blank=True, null=True)),
            ],
        ),
    ]
