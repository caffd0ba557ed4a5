"""One token system: API tokens get an expiry (the login endpoint's expire), and the keys DRF's authtoken app
kept in plain text, if its table is still there, become hashed API tokens of the same users (so their
systems keep working), and are then deleted from that table. Django never drops the table of an app taken
out of INSTALLED_APPS: the empty `authtoken_token` may be dropped by hand (README, "Security")."""

import hashlib

from django.db import migrations, models

AUTHTOKEN_TABLE = "authtoken_token"


def authtoken_keys_convert(apps, schema_editor):
    connection = schema_editor.connection
    if AUTHTOKEN_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("inspection", "ApiToken")
    table = connection.ops.quote_name(AUTHTOKEN_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name('key')}, user_id FROM {table}")  # noqa: S608
        rows = cursor.fetchall()
    for key, user_id in rows:
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        ApiToken.objects.get_or_create(
            key_hash=key_hash, defaults={"user_id": user_id, "name": "API login (converted)", "prefix": key[:8]}
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608  (the plain-text keys go)


class Migration(migrations.Migration):
    dependencies = [
        ("inspection", "0027_certificate_verify_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="expires"),
        ),
        migrations.RunPython(authtoken_keys_convert, migrations.RunPython.noop, elidable=True),
    ]
