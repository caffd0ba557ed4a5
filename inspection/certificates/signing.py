"""PAdES signatures with pyHanko, with the BCP's key and certificate from configuration
(`PIF_SIGNING_KEY`, `PIF_SIGNING_CERT`). `signing_key_create` makes a self-signed pair for development,
the demo and the tests; production uses a certificate from the administration's PKI."""

import datetime
import functools
import io
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _signer():
    from pyhanko.sign import signers

    key, cert = Path(settings.PIF_SIGNING_KEY), Path(settings.PIF_SIGNING_CERT)
    if not (key.is_file() and cert.is_file()):
        raise ImproperlyConfigured(
            f"No signing key and certificate at {key} and {cert}: set PIF_SIGNING_KEY and PIF_SIGNING_CERT, "
            "or run `python manage.py signing_key` for a self-signed pair (development only)."
        )
    passphrase = settings.PIF_SIGNING_KEY_PASSPHRASE.encode() or None
    signer = signers.SimpleSigner.load(str(key), str(cert), key_passphrase=passphrase)
    if signer is None:
        raise ImproperlyConfigured(f"The signing key {key} or certificate {cert} could not be read.")
    return signer


def signer_name() -> str:
    """The signing certificate's subject, as printed on the certificate and recorded with it."""
    subject = _signer().signing_cert.subject
    return subject.native.get("common_name") or subject.human_friendly


def sign_pdf(pdf: bytes, *, reason: str, field_name: str = "Signature") -> bytes:
    """The PDF with an invisible PAdES signature (signer, time, reason, location) appended."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=settings.PIF_SIGNING_LOCATION,
        name=signer_name(),
    )
    out = signers.sign_pdf(writer, metadata, signer=_signer())
    return out.getvalue()


def signing_key_create(key_path: Path, cert_path: Path, *, common_name: str, days: int = 3 * 365) -> None:
    """A self-signed EC P-256 key and certificate, written as PEM (the key readable by its owner only)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PIF Martinique"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_cert_sign=True,
                crl_sign=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _signer.cache_clear()


def signature_validate(pdf: bytes, *, trust_roots_pem: bytes) -> dict:
    """Validate the PDF's signature against the given roots, offline. Returns pyHanko's verdicts."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = list(load_certs_from_pemder_data(trust_roots_pem))
    reader = PdfFileReader(io.BytesIO(pdf))
    if not reader.embedded_signatures:
        return {"signed": False, "intact": False, "valid": False, "trusted": False}
    signature = reader.embedded_signatures[0]
    status = validate_pdf_signature(signature, ValidationContext(trust_roots=roots, allow_fetching=False))
    return {
        "signed": True,
        "intact": status.intact,
        "valid": status.valid,
        "trusted": status.trusted,
        "coverage": status.coverage.name,
        "signer": status.signing_cert.subject.human_friendly,
        "reason": signature.sig_object.get("/Reason"),
        "signed_at": signature.self_reported_timestamp,
    }
