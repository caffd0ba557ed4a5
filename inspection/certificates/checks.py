"""System checks for certificate rendering and signing (`manage.py check`, and at every start)."""

from pathlib import Path

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def harfbuzz_subsetting(app_configs, **kwargs):
    from .render import harfbuzz_subsetting_available

    if harfbuzz_subsetting_available():
        return []
    return [
        checks.Warning(
            "HarfBuzz's subsetting library is missing: WeasyPrint falls back to pure-Python font subsetting, "
            "and certificates render about four times slower.",
            hint="Install libharfbuzz-subset0 (Debian/Ubuntu: apt-get install libharfbuzz-subset0; `make syslibs`).",
            id="pif.W001",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def signing_key_configured(app_configs, **kwargs):
    key, cert = Path(settings.PIF_SIGNING_KEY), Path(settings.PIF_SIGNING_CERT)
    if key.is_file() and cert.is_file():
        return []
    return [
        checks.Warning(
            f"No certificate signing key at {key} and {cert}: certificate jobs will fail until there is one.",
            hint="Set PIF_SIGNING_KEY and PIF_SIGNING_CERT to the BCP's PEM key and certificate.",
            id="pif.W002",
        )
    ]
