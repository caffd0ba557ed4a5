"""Where private files live: importers' documents, check photos and certificates."""

from django.core.files.storage import storages


def private_storage():
    """Files outside static and media files, served only by our views after a permission check
    (`inspection.downloads`, the certificate and photo views); `settings.STORAGES["private"]`.

    Migrations name it as `inspection.models.consignments.private_storage` and
    `inspection.models.certificates.private_storage`: both modules import it, so they still load."""
    return storages["private"]
