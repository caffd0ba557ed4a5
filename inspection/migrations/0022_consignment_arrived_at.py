from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0021_number_of_animals"),
    ]

    operations = [
        migrations.AddField(
            model_name="consignment",
            name="arrived_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="arrived at the post"),
        ),
    ]
