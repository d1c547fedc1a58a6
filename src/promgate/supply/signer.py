"""Who signs: an EC key (default), a key with an X.509 certificate, or Sigstore keyless.

``PROMGATE_SIGNING_METHOD`` chooses; each method reads its own variables:

- ``key`` (default): ``PROMGATE_SIGNING_KEY`` (+ ``_PASSWORD``), else a development key
  made on first use and marked as such everywhere (``promgate.supply.keys``).
- ``certificate``: ``PROMGATE_SIGNING_KEY`` (unencrypted: model_signing's certificate signer
  takes no password), ``PROMGATE_SIGNING_CERT`` (the leaf) and ``PROMGATE_SIGNING_CERT_CHAIN``
  (PEM files separated by ``os.pathsep``: intermediates and the root).
- ``sigstore``: an OIDC identity token from ``PROMGATE_SIGSTORE_ID_TOKEN``, or the ambient CI
  credential sigstore detects (GitHub Actions, GitLab CI, Buildkite, Google Cloud); never an
  interactive browser flow. ``PROMGATE_SIGSTORE_STAGING=1`` or ``PROMGATE_SIGSTORE_TRUST_CONFIG``
  pick another instance. Needs network (OIDC issuer, Fulcio, Rekor).

Every signer signs model_signing subjects and DSSE statements with the same identity and
describes itself in one ``signer`` block that every attestation carries.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import model_signing

from promgate.supply import certs
from promgate.supply.dsse import PAYLOAD_TYPE, sign_bytes
from promgate.supply.errors import SupplyChainError
from promgate.supply.keys import (
    ALGORITHM,
    ENV_KEY,
    ENV_KEY_PASSWORD,
    SigningKey,
    public_pem,
    resolve_signing_key,
)
from promgate.supply.layout import CHAIN_FILE, PUBLIC_KEY_FILE
from promgate.supply.trust import CertificateVerifier, KeyVerifier, SigstoreVerifier, Verifier

ENV_METHOD = "PROMGATE_SIGNING_METHOD"
ENV_CERT = "PROMGATE_SIGNING_CERT"
ENV_CERT_CHAIN = "PROMGATE_SIGNING_CERT_CHAIN"
ENV_ID_TOKEN = "PROMGATE_SIGSTORE_ID_TOKEN"
ENV_STAGING = "PROMGATE_SIGSTORE_STAGING"
ENV_TRUST_CONFIG = "PROMGATE_SIGSTORE_TRUST_CONFIG"
METHODS = ("key", "certificate", "sigstore")
_AMBIENT = "GitHub Actions (id-token: write), GitLab CI, Buildkite or Google Cloud"


class Signer(ABC):
    method: ClassVar[str]

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """The signer block every attestation carries."""

    @abstractmethod
    def signing_config(self) -> model_signing.signing.Config:
        """model_signing's signing configuration for this identity."""

    @abstractmethod
    def sign_dsse(self, payload: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
        """A Sigstore bundle (JSON) whose DSSE envelope carries ``payload``."""

    def public_files(self) -> dict[str, tuple[str, bytes]]:
        """Files a verifier needs beside the bundles: name -> (role, content)."""
        return {}

    @abstractmethod
    def verifier(self, folder: Path) -> Verifier:
        """A verifier trusting this signer, given the folder ``public_files`` were written to."""


@dataclass
class KeySigner(Signer):
    key: SigningKey
    method: ClassVar[str] = "key"

    def describe(self) -> dict[str, Any]:
        return self.key.describe()

    def signing_config(self) -> model_signing.signing.Config:
        return model_signing.signing.Config().use_elliptic_key_signer(
            private_key=self.key.path, password=self.key.password
        )

    def sign_dsse(self, payload: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
        return sign_bytes(payload, self.key, payload_type)

    def public_files(self) -> dict[str, tuple[str, bytes]]:
        return {PUBLIC_KEY_FILE: ("public key", public_pem(self.key.public_key))}

    def verifier(self, folder: Path) -> Verifier:
        return KeyVerifier(folder / PUBLIC_KEY_FILE)


@dataclass
class CertificateSigner(Signer):
    key: SigningKey
    certificate_path: Path
    chain_paths: list[Path]
    method: ClassVar[str] = "certificate"
    certificate: Any = field(init=False)
    chain: list[Any] = field(init=False)

    def __post_init__(self) -> None:
        if self.key.password:
            raise SupplyChainError(
                f"{ENV_KEY_PASSWORD}: model_signing's certificate signer cannot read an "
                "encrypted key; give it an unencrypted key (file mode 0600)"
            )
        found = certs.load_certificates([self.certificate_path], ENV_CERT)
        if len(found) != 1:
            raise SupplyChainError(f"{self.certificate_path}: {ENV_CERT} must hold one certificate")
        self.certificate = found[0]
        certs.check_signing_certificate(
            self.certificate, self.key.private_key, self.certificate_path
        )
        self.chain = certs.load_certificates(self.chain_paths, ENV_CERT_CHAIN)
        try:  # the chain must anchor the leaf, or every verifier would refuse it later
            certs.verify_chain([self.certificate, *self.chain], self.chain)
        except certs.CertificateError as exc:
            raise SupplyChainError(f"{ENV_CERT_CHAIN}: {exc}") from exc

    def describe(self) -> dict[str, Any]:
        return {
            "mode": "certificate",
            "algorithm": ALGORITHM,
            "key_fingerprint_sha256": self.key.fingerprint,
            "development_key": False,
            "certificate": certs.describe(self.certificate),
            "chain": [c.subject.rfc4514_string() for c in self.chain],
        }

    def signing_config(self) -> model_signing.signing.Config:
        return model_signing.signing.Config().use_certificate_signer(
            private_key=self.key.path,
            signing_certificate=self.certificate_path,
            certificate_chain=self.chain_paths,
        )

    def sign_dsse(self, payload: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
        material = certs.chain_material([self.certificate, *self.chain])
        return sign_bytes(payload, self.key, payload_type, material=material)

    def public_files(self) -> dict[str, tuple[str, bytes]]:
        return {CHAIN_FILE: ("certificate chain", certs.pem_bundle(self.chain))}

    def verifier(self, folder: Path) -> Verifier:
        return CertificateVerifier((folder / CHAIN_FILE,))


@dataclass
class SigstoreSigner(Signer):
    """Keyless: each signature gets a short-lived Fulcio certificate for the token's identity
    and a Rekor transparency-log entry. Both model_signing's signer and sigstore's signing
    context are built here, so a missing network fails before anything is written."""

    token: str
    token_source: str
    staging: bool = False
    trust_config: Path | None = None
    method: ClassVar[str] = "sigstore"

    def __post_init__(self) -> None:
        from sigstore.errors import Error as SigstoreError
        from sigstore.models import ClientTrustConfig
        from sigstore.oidc import IdentityToken
        from sigstore.sign import SigningContext

        try:
            self.identity = IdentityToken(self.token)
        except SigstoreError as exc:
            raise SupplyChainError(
                f"{self.token_source}: not a usable identity token ({exc})"
            ) from exc
        try:
            if self.trust_config:
                trust = ClientTrustConfig.from_json(Path(self.trust_config).read_text())
            elif self.staging:
                trust = ClientTrustConfig.staging()
            else:  # TUF refresh of Sigstore's trusted root: network
                trust = ClientTrustConfig.production()
            self._context = SigningContext.from_trust_config(trust)
            self._config = model_signing.signing.Config().use_sigstore_signer(
                identity_token=self.token,
                use_ambient_credentials=False,
                use_staging=self.staging,
                trust_config=self.trust_config,
            )
        except (SigstoreError, OSError, ValueError) as exc:
            raise SupplyChainError(
                f"Sigstore keyless signing could not start ({type(exc).__name__}: {exc}); it "
                "needs network access to the OIDC issuer, Fulcio and Rekor. Nothing was signed."
            ) from exc

    def describe(self) -> dict[str, Any]:
        return {
            "mode": "sigstore",
            "algorithm": "ecdsa-p256-sha256 (ephemeral key, Fulcio certificate)",
            "key_fingerprint_sha256": None,
            "development_key": False,
            "identity": self.identity.identity,
            "oidc_issuer": self.identity.federated_issuer,
            "staging": self.staging,
        }

    def signing_config(self) -> model_signing.signing.Config:
        return self._config

    def sign_dsse(self, payload: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
        import json

        from sigstore.dsse import Statement

        if payload_type != PAYLOAD_TYPE:
            raise SupplyChainError(f"Sigstore signs in-toto statements only, not {payload_type}")
        with self._context.signer(self.identity) as signer:
            bundle = signer.sign_dsse(Statement(payload))
        return json.loads(bundle.to_json())

    def verifier(self, folder: Path) -> Verifier:
        info = self.describe()
        return SigstoreVerifier(
            info["identity"],
            info["oidc_issuer"],
            staging=self.staging,
            trust_config=self.trust_config,
        )


def _paths(value: str) -> list[Path]:
    return [Path(p).expanduser() for p in value.split(os.pathsep) if p.strip()]


def resolve_signer(
    root: Path,
    env: Mapping[str, str] | None = None,
    *,
    detect_token: Callable[[], str | None] | None = None,
) -> Signer:
    """The signer ``env`` (default: the process environment) configures.

    ``detect_token`` finds an ambient CI identity token (default: sigstore's detection).
    """
    env = os.environ if env is None else env
    method = (env.get(ENV_METHOD) or "key").strip().lower()
    if method == "key":
        return KeySigner(resolve_signing_key(root, env))
    if method == "certificate":
        missing = [name for name in (ENV_KEY, ENV_CERT, ENV_CERT_CHAIN) if not env.get(name)]
        if missing:
            raise SupplyChainError(
                f"{ENV_METHOD}=certificate needs {', '.join(missing)} (the signing key, its "
                "certificate, and the chain up to the root); nothing was signed"
            )
        return CertificateSigner(
            resolve_signing_key(root, env),
            Path(env[ENV_CERT]).expanduser(),
            _paths(env[ENV_CERT_CHAIN]),
        )
    if method == "sigstore":
        return _sigstore_signer(env, detect_token)
    raise SupplyChainError(f"{ENV_METHOD}={method!r}: expected one of {', '.join(METHODS)}")


def _sigstore_signer(
    env: Mapping[str, str], detect_token: Callable[[], str | None] | None
) -> SigstoreSigner:
    token, source = env.get(ENV_ID_TOKEN), ENV_ID_TOKEN
    if not token:
        if detect_token is None:
            from sigstore.errors import Error as SigstoreError
            from sigstore.oidc import detect_credential

            try:
                token = detect_credential()
            except SigstoreError as exc:
                raise SupplyChainError(f"ambient identity token: {exc}") from exc
        else:
            token = detect_token()
        source = "ambient CI credential"
    if not token:
        raise SupplyChainError(
            f"{ENV_METHOD}=sigstore needs an OIDC identity token: set {ENV_ID_TOKEN}, or run "
            f"where sigstore detects one ({_AMBIENT}); none was found and promgate never "
            "opens a browser. Nothing was signed."
        )
    trust_config = env.get(ENV_TRUST_CONFIG)
    return SigstoreSigner(
        token,
        source,
        staging=(env.get(ENV_STAGING) or "").strip().lower() in ("1", "true", "yes"),
        trust_config=Path(trust_config).expanduser() if trust_config else None,
    )
