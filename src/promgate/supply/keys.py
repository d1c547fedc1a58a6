"""The signing key: EC P-256, from ``PROMGATE_SIGNING_KEY`` or a development key made on first use.

model_signing supports NIST curves only (no Ed25519). The development key lives under
``.promgate/keys/`` (git-ignored) and every attestation made with it says so: it proves the
evidence was not changed after signing, not who signed it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from promgate.supply.errors import SupplyChainError
from promgate.supply.layout import DEV_KEY_DIR

ENV_KEY = "PROMGATE_SIGNING_KEY"
ENV_KEY_PASSWORD = "PROMGATE_SIGNING_KEY_PASSWORD"
DEV_KEY_FILE = "dev-signing-key.pem"
ALGORITHM = "ecdsa-p256-sha256"
DEVELOPMENT_NOTICE = (
    "DEVELOPMENT KEY: generated on first use on the machine that ran the pipeline; it shows "
    "the evidence is unchanged since signing, not who signed it. Not a release identity."
)
_CURVES = ("secp256r1", "secp384r1", "secp521r1")


def public_pem(key: ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def fingerprint(key: ec.EllipticCurvePublicKey) -> str:
    """sha256 of the PEM public key: the same hint model_signing puts in its bundles."""
    return hashlib.sha256(public_pem(key)).hexdigest()


def load_public_key(path: str | Path) -> ec.EllipticCurvePublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise SupplyChainError(f"{path}: not a readable PEM public key ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _CURVES:
        raise SupplyChainError(f"{path}: not an EC P-256/384/521 public key")
    return key


@dataclass(frozen=True)
class SigningKey:
    """A private key on disk, as model_signing wants it, plus what attestations say about it."""

    path: Path
    private_key: ec.EllipticCurvePrivateKey
    development: bool
    password: str | None = None

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self.private_key.public_key()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_key)

    def describe(self) -> dict[str, Any]:
        """The signer block every attestation carries."""
        info: dict[str, Any] = {
            "mode": "key",
            "algorithm": ALGORITHM,
            "key_fingerprint_sha256": self.fingerprint,
            "development_key": self.development,
        }
        if self.development:
            info["notice"] = DEVELOPMENT_NOTICE
        return info


def _load_private(path: Path, password: str | None) -> ec.EllipticCurvePrivateKey:
    try:
        key = serialization.load_pem_private_key(
            path.read_bytes(), password.encode() if password else None
        )
    except (OSError, ValueError, TypeError) as exc:
        raise SupplyChainError(f"{path}: cannot load the signing key ({exc})") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name not in _CURVES:
        raise SupplyChainError(
            f"{path}: the signing key must be EC P-256/384/521 (model_signing has no Ed25519)"
        )
    return key


def generate_dev_key(path: Path) -> None:
    """Write a fresh P-256 key, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # O_EXCL: two stages racing to create the key must not overwrite each other's.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def resolve_signing_key(root: Path, env: Mapping[str, str] | None = None) -> SigningKey:
    """``PROMGATE_SIGNING_KEY`` when set, else the development key (created if absent)."""
    env = os.environ if env is None else env
    password = env.get(ENV_KEY_PASSWORD) or None
    configured = env.get(ENV_KEY)
    if configured:
        path = Path(configured).expanduser()
        return SigningKey(path, _load_private(path, password), development=False, password=password)
    path = Path(root) / DEV_KEY_DIR / DEV_KEY_FILE
    if not path.exists():
        # Another stage may have created it a moment ago: use that one.
        with contextlib.suppress(FileExistsError):
            generate_dev_key(path)
    return SigningKey(path, _load_private(path, None), development=True)
