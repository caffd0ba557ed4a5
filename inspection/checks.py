"""System checks on the settings (`manage.py check`, and before every management command that checks: `migrate`,
`runserver`, hence `python -m pif.prod all|migrate`; `pif.prod` refuses the same from the environment first)."""

from django.conf import settings
from django.core import checks
from django.utils.module_loading import import_string

ALLOW = "Set DEBUG=true (a developer's machine), or PIF_ALLOW_TEST_DOUBLES=true where the doubles are meant (tests)."


def _traces_double(path: str) -> bool:
    from inspection.traces import LocalTracesDouble

    try:
        transport = import_string(path)
    except ImportError:
        return False  # not ours to judge here: sending through it fails, as an incident
    return isinstance(transport, type) and issubclass(transport, LocalTracesDouble)


@checks.register(checks.Tags.security)
def doubles_off_in_production(app_configs, **kwargs):
    """The local doubles stand in for the IPPC hub and TRACES NT in the tests and the demo: outside them, the
    hub double lets anyone who names an NPPO in a header pull every exporter's certificates, and the TRACES double
    records CHED numbers TRACES NT never gave."""
    if settings.DEBUG or settings.PIF_ALLOW_TEST_DOUBLES:
        return []
    errors = []
    if settings.PIF_IPPC_HUB_DOUBLE:
        errors.append(
            checks.Error(
                "PIF_IPPC_HUB_DOUBLE is on with DEBUG off: /hub-double/ would hand any exporter's certificates to "
                "anyone who names an NPPO in a header.",
                hint="Unset PIF_IPPC_HUB_DOUBLE (and set PIF_IPPC_HUB_URL to the real hub). " + ALLOW,
                id="pif.E001",
            )
        )
    if settings.PIF_TRACES_TRANSPORT and _traces_double(settings.PIF_TRACES_TRANSPORT):
        errors.append(
            checks.Error(
                "PIF_TRACES_TRANSPORT names the local TRACES double with DEBUG off: it would record CHED numbers "
                "TRACES NT never gave.",
                hint="Name a real transport, or leave PIF_TRACES_TRANSPORT empty (no exchange). " + ALLOW,
                id="pif.E002",
            )
        )
    return errors
