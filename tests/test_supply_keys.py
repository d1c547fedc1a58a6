"""The signing key: a development key on first use, or the configured one; EC only."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from promgate.supply.errors import SupplyChainError
from promgate.supply.keys import ENV_KEY, resolve_signing_key


def test_development_key_is_made_once_owner_only_and_marked(tmp_path):
    first = resolve_signing_key(tmp_path, {})
    again = resolve_signing_key(tmp_path, {})
    assert first.development and first.fingerprint == again.fingerprint
    assert first.path == tmp_path / ".promgate/keys/dev-signing-key.pem"
    assert first.path.stat().st_mode & 0o777 == 0o600
    assert first.path.parent.stat().st_mode & 0o777 == 0o700
    info = first.describe()
    assert info["development_key"] is True and info["notice"].startswith("DEVELOPMENT KEY")
    assert info["algorithm"] == "ecdsa-p256-sha256"


def test_configured_key_wins_and_is_not_development(tmp_path):
    resolve_signing_key(tmp_path / "a", {})
    configured = tmp_path / "a/.promgate/keys/dev-signing-key.pem"
    key = resolve_signing_key(tmp_path / "b", {ENV_KEY: str(configured)})
    assert not key.development and "notice" not in key.describe()
    assert not (tmp_path / "b/.promgate").exists()


def test_ed25519_is_refused_with_the_reason(tmp_path):
    path = tmp_path / "ed.pem"
    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.write_bytes(pem)
    with pytest.raises(SupplyChainError, match="no Ed25519"):
        resolve_signing_key(tmp_path, {ENV_KEY: str(path)})


def test_unreadable_key_is_named(tmp_path):
    with pytest.raises(SupplyChainError, match=r"missing\.pem: cannot load the signing key"):
        resolve_signing_key(tmp_path, {ENV_KEY: str(tmp_path / "missing.pem")})
