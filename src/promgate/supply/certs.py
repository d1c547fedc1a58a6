"""X.509 for certificate-based signing: load the signing certificate and chain, check them.

Chains are verified the way model_signing's certificate verifier does it (an OpenSSL store
of trusted certificates, the bundle's other certificates as untrusted intermediates, the
store's clock set to the leaf's notBefore, and a leaf usable for signing: KeyUsage
digitalSignature or ExtendedKeyUsage codeSigning), so ``promgate verify`` and ``model_signing
verify certificate`` accept and refuse the same chains.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from promgate.supply.errors import SupplyChainError


class CertificateError(ValueError):
    """A certificate chain does not verify, or the leaf may not sign."""


def load_certificates(paths: Iterable[Path], what: str) -> list[x509.Certificate]:
    """Every PEM certificate in ``paths`` (a file may hold several), in order."""
    certs: list[x509.Certificate] = []
    for path in paths:
        try:
            found = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except (OSError, ValueError) as exc:
            raise SupplyChainError(
                f"{path}: {what}: not readable PEM certificates ({exc})"
            ) from exc
        certs += found
    return certs


def pem_bundle(certs: Sequence[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


def fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def describe(cert: x509.Certificate) -> dict[str, Any]:
    """What an attestation says about the signing certificate."""
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "certificate_sha256": fingerprint(cert),
        "not_after": cert.not_valid_after_utc.isoformat(timespec="seconds"),
    }


def usable_for_signing(cert: x509.Certificate) -> bool:
    """model_signing's rule: KeyUsage digitalSignature, or else ExtendedKeyUsage codeSigning."""
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return True
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return ExtendedKeyUsageOID.CODE_SIGNING in eku


def check_signing_certificate(
    cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, path: Path
) -> None:
    """Refuse before signing what every verifier would refuse after."""
    if cert.public_key() != key.public_key():
        raise SupplyChainError(f"{path}: the certificate does not belong to the signing key")
    if not usable_for_signing(cert):
        raise SupplyChainError(
            f"{path}: the certificate may not sign (needs KeyUsage digitalSignature or "
            "ExtendedKeyUsage codeSigning)"
        )
    now = datetime.now(UTC)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise SupplyChainError(
            f"{path}: the certificate is not valid now "
            f"({cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})"
        )


def chain_material(chain: Sequence[x509.Certificate]) -> dict[str, Any]:
    """Sigstore bundle verificationMaterial for a leaf-first chain (as model_signing writes)."""
    raw = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in chain]
    return {
        "x509CertificateChain": {"certificates": [{"rawBytes": r} for r in raw]},
        "tlogEntries": [],
    }


def chain_from_material(material: dict[str, Any]) -> list[x509.Certificate]:
    try:
        entries = material["x509CertificateChain"]["certificates"]
        certs = [x509.load_der_x509_certificate(base64.b64decode(e["rawBytes"])) for e in entries]
    except (KeyError, TypeError, ValueError) as exc:
        raise CertificateError(f"unreadable certificate chain ({type(exc).__name__})") from exc
    if not certs:
        raise CertificateError("the bundle carries no certificate")
    return certs


def verify_chain(chain: Sequence[x509.Certificate], trusted: Sequence[x509.Certificate]) -> None:
    """The leaf (``chain[0]``) leads to a ``trusted`` certificate and may sign; else why not."""
    from OpenSSL import crypto

    store = crypto.X509Store()
    for cert in trusted:
        store.add_cert(crypto.X509.from_cryptography(cert))
    leaf = chain[0]
    store.set_time(leaf.not_valid_before_utc)
    untrusted = [crypto.X509.from_cryptography(c) for c in chain[1:]]
    context = crypto.X509StoreContext(store, crypto.X509.from_cryptography(leaf), untrusted)
    try:
        context.verify_certificate()
    except crypto.X509StoreContextError as exc:
        raise CertificateError(
            f"certificate {leaf.subject.rfc4514_string()} does not chain to a trusted "
            f"certificate ({exc})"
        ) from exc
    if not usable_for_signing(leaf):
        raise CertificateError(f"certificate {leaf.subject.rfc4514_string()} may not sign")
