"""What a verifier trusts, and the verifier for each signing method.

``Trust`` is what the person verifying says (a public key, a CA chain, or a Sigstore identity
and issuer). The signing method is read from the bundles themselves (``dsse.bundle_method``);
``resolve_verifier`` pairs the two and refuses a mismatch (a chain given for key-signed
evidence, keyless evidence without an identity) rather than guessing. Each verifier opens
DSSE statements and hands model_signing the matching verifying configuration, so promgate and
``model_signing verify ...`` check the same things.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import model_signing

from promgate.supply import certs
from promgate.supply.dsse import PAYLOAD_TYPE, DsseError, open_bytes, verify_envelope
from promgate.supply.errors import SupplyChainError
from promgate.supply.keys import fingerprint, load_public_key
from promgate.supply.layout import CHAIN_FILE, PUBLIC_KEY_FILE


@dataclass(frozen=True)
class Trust:
    """Trust anchors given on the command line; all empty means "what the evidence ships"."""

    public_key: Path | None = None
    certificate_chain: tuple[Path, ...] = ()
    identity: str | None = None
    oidc_issuer: str | None = None
    sigstore_staging: bool = False
    sigstore_trust_config: Path | None = None


class Verifier(ABC):
    method: ClassVar[str]
    source: str  # where the trust anchor came from, for the report

    @abstractmethod
    def open_bytes(self, bundle: dict[str, Any], payload_type: str = PAYLOAD_TYPE) -> bytes:
        """The payload of a bundle this verifier accepts; DsseError otherwise."""

    @abstractmethod
    def model_signing_config(self) -> model_signing.verifying.Config:
        """A fresh model_signing verifying config (model_signing mutates it per subject)."""

    @abstractmethod
    def anchor(self) -> str:
        """The trusted key, CA or identity, in a few words."""


@dataclass
class KeyVerifier(Verifier):
    public_key: Path
    source: str = "given"
    method: ClassVar[str] = "key"

    def __post_init__(self) -> None:
        self.key = load_public_key(self.public_key)
        self.fingerprint = fingerprint(self.key)

    def open_bytes(self, bundle: dict[str, Any], payload_type: str = PAYLOAD_TYPE) -> bytes:
        return open_bytes(bundle, self.key, payload_type)

    def model_signing_config(self) -> model_signing.verifying.Config:
        return model_signing.verifying.Config().use_elliptic_key_verifier(
            public_key=self.public_key
        )

    def anchor(self) -> str:
        return f"key {self.fingerprint[:16]}…"


@dataclass
class CertificateVerifier(Verifier):
    trusted_paths: tuple[Path, ...]
    source: str = "given"
    method: ClassVar[str] = "certificate"
    trusted: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        self.trusted = certs.load_certificates(self.trusted_paths, "trusted certificate chain")
        if not self.trusted:
            raise SupplyChainError("the trusted certificate chain holds no certificate")

    def open_bytes(self, bundle: dict[str, Any], payload_type: str = PAYLOAD_TYPE) -> bytes:
        try:
            chain = certs.chain_from_material(bundle.get("verificationMaterial") or {})
            certs.verify_chain(chain, self.trusted)
        except certs.CertificateError as exc:
            raise DsseError(str(exc)) from exc
        return verify_envelope(bundle, chain[0].public_key(), payload_type)

    def model_signing_config(self) -> model_signing.verifying.Config:
        return model_signing.verifying.Config().use_certificate_verifier(
            certificate_chain=list(self.trusted_paths)
        )

    def anchor(self) -> str:
        roots = [c.subject.rfc4514_string() for c in self.trusted if c.subject == c.issuer]
        return f"CA {', '.join(roots) or self.trusted[0].subject.rfc4514_string()}"


@dataclass
class SigstoreVerifier(Verifier):
    """Keyless: the Fulcio certificate must name ``identity`` and ``oidc_issuer``; the
    transparency-log entry is checked against Sigstore's trusted root (fetched by TUF unless
    a trust config file is given, so this needs network without one)."""

    identity: str
    oidc_issuer: str
    staging: bool = False
    trust_config: Path | None = None
    source: str = "given"
    method: ClassVar[str] = "sigstore"

    def open_bytes(self, bundle: dict[str, Any], payload_type: str = PAYLOAD_TYPE) -> bytes:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import Bundle, ClientTrustConfig
        from sigstore.verify import Verifier as SigstoreBundleVerifier
        from sigstore.verify.policy import Identity

        try:
            if self.trust_config:
                config = ClientTrustConfig.from_json(self.trust_config.read_text())
            elif self.staging:
                config = ClientTrustConfig.staging()
            else:
                config = ClientTrustConfig.production()
            verifier = SigstoreBundleVerifier(trusted_root=config.trusted_root)
            kind, payload = verifier.verify_dsse(
                Bundle.from_json(json.dumps(bundle)),
                Identity(identity=self.identity, issuer=self.oidc_issuer),
            )
        except (SigstoreError, ValueError, OSError) as exc:
            raise DsseError(f"Sigstore verification failed ({type(exc).__name__}: {exc})") from exc
        if kind != payload_type:
            raise DsseError(f"unexpected payloadType {kind!r}")
        return payload

    def model_signing_config(self) -> model_signing.verifying.Config:
        return model_signing.verifying.Config().use_sigstore_verifier(
            identity=self.identity,
            oidc_issuer=self.oidc_issuer,
            use_staging=self.staging,
            trust_config=self.trust_config,
        )

    def anchor(self) -> str:
        return f"Sigstore identity {self.identity} from {self.oidc_issuer}"


def resolve_verifier(method: str, trust: Trust, shipped: Path) -> tuple[Verifier, list[str]]:
    """The verifier for evidence signed by ``method``, and notes for the report.

    ``shipped`` is the folder holding the public key / chain the evidence ships. Raises
    SupplyChainError when ``trust`` does not fit ``method``: verification never falls back
    to a weaker check than the one asked for.
    """
    given = {
        "--public-key": trust.public_key is not None,
        "--certificate-chain": bool(trust.certificate_chain),
        "--identity/--oidc-issuer": bool(trust.identity or trust.oidc_issuer),
    }
    wanted = {"key": "--public-key", "certificate": "--certificate-chain"}.get(
        method, "--identity/--oidc-issuer"
    )
    wrong = [flag for flag, on in given.items() if on and flag != wanted]
    if method not in ("key", "certificate", "sigstore"):
        raise SupplyChainError("the bundle names no key, certificate chain or Sigstore certificate")
    if wrong:
        raise SupplyChainError(f"the evidence is {method}-signed; {wrong[0]} does not apply")
    notes: list[str] = []
    if method == "key":
        if trust.public_key is not None:
            return KeyVerifier(Path(trust.public_key)), notes
        notes.append(
            "trusting the public key shipped with the evidence: this proves the evidence is "
            "unchanged since signing, not who signed it; pass --public-key to pin a key"
        )
        return KeyVerifier(shipped / PUBLIC_KEY_FILE, source="shipped"), notes
    if method == "certificate":
        if trust.certificate_chain:
            return CertificateVerifier(tuple(Path(p) for p in trust.certificate_chain)), notes
        notes.append(
            "trusting the certificate chain shipped with the evidence: this proves the evidence "
            "is unchanged since signing, not who signed it; pass --certificate-chain to pin a CA"
        )
        return CertificateVerifier((shipped / CHAIN_FILE,), source="shipped"), notes
    if not (trust.identity and trust.oidc_issuer):
        raise SupplyChainError(
            "the evidence is signed keyless with Sigstore: pass --identity and --oidc-issuer "
            "(the signer's identity and its OIDC issuer, as the Fulcio certificate names them)"
        )
    verifier = SigstoreVerifier(
        trust.identity,
        trust.oidc_issuer,
        staging=trust.sigstore_staging,
        trust_config=trust.sigstore_trust_config,
    )
    return verifier, notes
