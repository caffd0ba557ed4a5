"""Consignments driven to their decision quickly: through the services, as the demo does (`_demo_flow.drive`)."""

from inspection.models import Certificate, Consignment
from inspection.selectors import decision_in_force
from inspection.services.certificates import certificate_kinds
from inspection.services.consignments import consignment_create
from tests.factories import part_one
from workflows.management.commands._demo_flow import drive


def decided(people, count: int) -> list[Consignment]:
    """`count` consignments submitted and accepted (their certificate jobs queued at each decision's commit)."""
    made = []
    for _ in range(count):
        consignment = consignment_create(actor=people["importer"], part_one=part_one())
        drive(consignment, "accepted", people)
        made.append(consignment)
    return made


def certificate_problems(consignments) -> list[str]:
    """What is wrong with the certificates: each decision in force needs one valid certificate of each of its
    kinds, and no other row."""
    problems = []
    for consignment in consignments:
        decision = decision_in_force(consignment)
        if decision is None:
            problems.append(f"{consignment.reference}: no decision in force")
            continue
        for kind in certificate_kinds(decision):
            valid = Certificate.objects.filter(decision=decision, kind=kind, status=Certificate.Status.VALID).count()
            if valid != 1:
                problems.append(f"{consignment.reference}: {valid} valid {kind} certificates")
        rows = Certificate.objects.filter(consignment=consignment).count()
        if rows != len(certificate_kinds(decision)):
            problems.append(f"{consignment.reference}: {rows} certificate rows")
    return problems


def orphan_files(private_root) -> list[str]:
    """Files under the private storage (certificates, documents, photos, lab reports) that no row records."""
    from django.apps import apps
    from django.db import models

    recorded = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.FileField):
                recorded.update(model._default_manager.exclude(**{field.name: ""}).values_list(field.name, flat=True))
    found = [str(path.relative_to(private_root)) for path in private_root.rglob("*") if path.is_file()]
    return sorted(name for name in found if name not in recorded)
