"""In-toto statements signed as DSSE envelopes inside a Sigstore bundle (v0.3).

The same envelope and bundle layout model_signing produces for its own statements, so a
reader that understands one understands both: ``dsseEnvelope`` with the base64 statement, and
``verificationMaterial`` either ``publicKey.hint`` = sha256 of the signer's PEM public key
(key-based) or ``x509CertificateChain`` (certificate-based, leaf first). Sigstore keyless
bundles are made and checked by sigstore itself (``promgate.supply.signer`` / ``trust``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from promgate.supply.keys import SigningKey, fingerprint

PAYLOAD_TYPE = "application/vnd.in-toto+json"
BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"


class DsseError(ValueError):
    """A bundle is malformed or its signature does not verify."""


def _ecdsa(key: ec.EllipticCurvePublicKey) -> ec.ECDSA:
    """The hash that goes with the curve, as model_signing pairs them."""
    size = key.curve.key_size
    algorithm = (
        hashes.SHA256() if size == 256 else hashes.SHA384() if size == 384 else hashes.SHA512()
    )
    return ec.ECDSA(algorithm)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what is actually signed."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def statement_bytes(statement: dict[str, Any]) -> bytes:
    return json.dumps(statement, indent=2, ensure_ascii=False).encode("utf-8")


def sign_bytes(
    payload: bytes,
    key: SigningKey,
    payload_type: str = PAYLOAD_TYPE,
    *,
    material: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Sigstore bundle whose DSSE envelope carries ``payload``.

    ``material`` replaces the public-key hint (e.g. a certificate chain, ``certs``).
    """
    sig = key.private_key.sign(pae(payload_type, payload), _ecdsa(key.public_key))
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": material
        or {"publicKey": {"hint": key.fingerprint}, "tlogEntries": []},
        "dsseEnvelope": {
            "payload": base64.b64encode(payload).decode("ascii"),
            "payloadType": payload_type,
            "signatures": [{"sig": base64.b64encode(sig).decode("ascii"), "keyid": ""}],
        },
    }


def sign_statement(statement: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    return sign_bytes(statement_bytes(statement), key)


def bundle_method(bundle: dict[str, Any]) -> str:
    """How a bundle was signed, from its verificationMaterial: key, certificate or sigstore."""
    material = bundle.get("verificationMaterial") if isinstance(bundle, dict) else None
    if not isinstance(material, dict):
        return "unknown"
    if "publicKey" in material:
        return "key"
    if "x509CertificateChain" in material:
        return "certificate"
    if "certificate" in material:  # one short-lived Fulcio certificate, plus tlog entries
        return "sigstore"
    return "unknown"


def verify_envelope(
    bundle: dict[str, Any], public_key: ec.EllipticCurvePublicKey, payload_type: str = PAYLOAD_TYPE
) -> bytes:
    """The payload of a bundle whose DSSE signature verifies with ``public_key``; else DsseError."""
    try:
        envelope = bundle["dsseEnvelope"]
        payload = base64.b64decode(envelope["payload"], validate=True)
        sig = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
        kind = envelope["payloadType"]
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise DsseError(f"not a DSSE Sigstore bundle ({type(exc).__name__}: {exc})") from exc
    if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE:
        raise DsseError(f"unexpected bundle mediaType {bundle.get('mediaType')!r}")
    if kind != payload_type:
        raise DsseError(f"unexpected payloadType {kind!r}")
    try:
        public_key.verify(sig, pae(kind, payload), _ecdsa(public_key))
    except InvalidSignature as exc:
        raise DsseError(
            "the DSSE signature does not verify (payload or signature changed)"
        ) from exc
    return payload


def open_bytes(
    bundle: dict[str, Any], public_key: ec.EllipticCurvePublicKey, payload_type: str = PAYLOAD_TYPE
) -> bytes:
    """The payload of a key-signed bundle whose signature verifies with ``public_key``."""
    try:
        hint = bundle["verificationMaterial"]["publicKey"]["hint"]
    except (KeyError, TypeError) as exc:
        raise DsseError(
            f"not a key-signed DSSE Sigstore bundle (signed by: {bundle_method(bundle)})"
        ) from exc
    if hint != fingerprint(public_key):
        raise DsseError(
            f"signed with key {hint[:12]}…, not the given key {fingerprint(public_key)[:12]}…"
        )
    return verify_envelope(bundle, public_key, payload_type)


def parse_statement(payload: bytes, predicate_type: str) -> dict[str, Any]:
    """The in-toto statement in a verified payload, checked to be of ``predicate_type``."""
    try:
        statement = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise DsseError(f"payload is not JSON ({exc.msg})") from exc
    if not isinstance(statement, dict) or statement.get("_type") != STATEMENT_TYPE:
        raise DsseError("payload is not an in-toto v1 statement")
    if statement.get("predicateType") != predicate_type:
        raise DsseError(
            f"predicateType is {statement.get('predicateType')!r}, not {predicate_type!r}"
        )
    return statement


def open_statement(
    bundle: dict[str, Any], public_key: ec.EllipticCurvePublicKey, predicate_type: str
) -> dict[str, Any]:
    """The verified in-toto statement of a key-signed bundle, of ``predicate_type``."""
    return parse_statement(open_bytes(bundle, public_key), predicate_type)
