"""Each certificate gets a random verification code (issue 16, item 8). Existing certificates get one each
(not one for all, which AddField's default would give): their printed QR codes lack it, so their holders
check them by uploading the PDF, or use the address the API and the portal now give."""

from django.db import migrations, models

import inspection.models.certificates


def give_each_a_key(apps, schema_editor):
    Certificate = apps.get_model("inspection", "Certificate")
    for certificate in Certificate.objects.filter(verify_key="").only("pk").iterator():
        Certificate.objects.filter(pk=certificate.pk).update(
            verify_key=inspection.models.certificates.certificate_verify_key()
        )


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0026_audit_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="verify_key",
            field=models.CharField(default="", max_length=32, verbose_name="verification code"),
            preserve_default=False,
        ),
        migrations.RunPython(give_each_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="certificate",
            name="verify_key",
            field=models.CharField(
                default=inspection.models.certificates.certificate_verify_key,
                max_length=32,
                verbose_name="verification code",
            ),
        ),
    ]
