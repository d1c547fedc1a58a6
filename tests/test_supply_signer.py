"""Choosing the signer: key (default), certificate, Sigstore keyless; keyless fails closed.

This machine has no network, so keyless signing itself is never exercised here: the tests
show that it refuses without a token, and that with one the configuration reaches
model_signing's Sigstore signer, which then needs the network it does not have.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest

from promgate.supply import layout as L
from promgate.supply.attest import run_attest
from promgate.supply.errors import SupplyChainError
from promgate.supply.keys import ENV_KEY, generate_dev_key
from promgate.supply.signer import (
    ENV_ID_TOKEN,
    ENV_METHOD,
    ENV_TRUST_CONFIG,
    KeySigner,
    SigstoreSigner,
    resolve_signer,
)
from promgate.supply.trust import Trust
from promgate.supply.verify import verify_attestations
from supply_helpers import attested_copy, make_project, reuse_environment_sbom

IDENTITY = "repo:example/promgate:ref:refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"


def _token(**claims) -> str:
    """An unsigned OIDC token with the claims sigstore reads (it forwards, never checks, them)."""

    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    now = int(time.time())
    body = {"iss": ISSUER, "sub": IDENTITY, "aud": "sigstore", "iat": now, "exp": now + 600}
    body["job_workflow_ref"] = "example/promgate/.github/workflows/gate.yml@refs/heads/main"
    return f"{part({'alg': 'RS256'})}.{part({**body, **claims})}.c2ln"


def _trust_config(tmp_path: Path) -> Path:
    """Sigstore's production trust root as sigstore ships it, as a client trust config file."""
    import sigstore

    store = Path(sigstore.__file__).parent / "_store" / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    config = {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": json.loads((store / "trusted_root.json").read_text()),
        "signingConfig": json.loads((store / "signing_config.v0.2.json").read_text()),
    }
    path = tmp_path / "trust-config.json"
    path.write_text(json.dumps(config))
    return path


def test_key_is_the_default_and_a_development_key_is_marked(tmp_path):
    signer = resolve_signer(tmp_path, {})
    assert isinstance(signer, KeySigner) and signer.describe()["development_key"] is True
    key = tmp_path / "release.pem"
    generate_dev_key(key)
    signer = resolve_signer(tmp_path, {ENV_METHOD: "key", ENV_KEY: str(key)})
    assert signer.describe()["development_key"] is False


def test_an_unknown_method_is_named(tmp_path):
    with pytest.raises(SupplyChainError, match="PROMGATE_SIGNING_METHOD='gpg': expected one of"):
        resolve_signer(tmp_path, {ENV_METHOD: "gpg"})


def test_keyless_without_a_token_fails_closed_and_names_what_is_missing(tmp_path):
    with pytest.raises(SupplyChainError) as caught:
        resolve_signer(tmp_path, {ENV_METHOD: "sigstore"}, detect_token=lambda: None)
    message = str(caught.value)
    assert "needs an OIDC identity token" in message and ENV_ID_TOKEN in message
    assert "Nothing was signed" in message


def test_attest_refuses_keyless_without_a_token(tmp_path, monkeypatch):
    reuse_environment_sbom(monkeypatch)
    root = make_project(tmp_path / "p")
    monkeypatch.setenv(ENV_METHOD, "sigstore")
    monkeypatch.delenv(ENV_ID_TOKEN, raising=False)
    # The CI detectors sigstore tries read the environment; none applies on this machine.
    monkeypatch.setattr("sigstore.oidc.detect_credential", lambda *a, **k: None)
    with pytest.raises(SupplyChainError, match=ENV_ID_TOKEN):
        run_attest(root)
    assert not (root / L.ATTESTATIONS).exists(), "nothing may be left half-signed"


def test_a_malformed_token_is_refused(tmp_path):
    env = {ENV_METHOD: "sigstore", ENV_ID_TOKEN: "not-a-token"}
    with pytest.raises(SupplyChainError, match="PROMGATE_SIGSTORE_ID_TOKEN: not a usable"):
        resolve_signer(tmp_path, env)
    expired = {ENV_METHOD: "sigstore", ENV_ID_TOKEN: _token(exp=int(time.time()) - 60)}
    with pytest.raises(SupplyChainError, match="not a usable identity token"):
        resolve_signer(tmp_path, expired)


@pytest.mark.parametrize("source", ["variable", "ambient"])
def test_a_token_reaches_model_signings_sigstore_signer(tmp_path, monkeypatch, source):
    """The real signer is constructed with the token and trust config; offline it cannot reach
    the OIDC issuer, and that is an error, never a silent fallback or a fake success."""
    from model_signing._signing import sign_sigstore

    seen: list[dict] = []
    real_init = sign_sigstore.Signer.__init__

    def recording_init(self, **kwargs):
        seen.append(kwargs)
        real_init(self, **kwargs)

    monkeypatch.setattr(sign_sigstore.Signer, "__init__", recording_init)
    token, trust = _token(), _trust_config(tmp_path)
    env = {ENV_METHOD: "sigstore", ENV_TRUST_CONFIG: str(trust)}
    if source == "variable":
        env[ENV_ID_TOKEN] = token
    try:
        signer = resolve_signer(tmp_path, env, detect_token=lambda: token)
    except SupplyChainError as exc:
        from sigstore.errors import NetworkError

        assert isinstance(exc.__cause__, NetworkError), exc.__cause__
        assert "needs network access" in str(exc) and "Nothing was signed" in str(exc)
    else:  # a machine with network: the signer exists and says who it signs as
        assert isinstance(signer, SigstoreSigner)
        assert signer.describe()["identity"] == IDENTITY
    assert len(seen) == 1, "model_signing's Sigstore signer was not constructed"
    wanted = {
        "identity_token": token,
        "use_ambient_credentials": False,  # the token given, never a browser flow
        "use_staging": False,
        "trust_config": trust,
    }
    assert {k: seen[0].get(k) for k in wanted} == wanted


def test_keyless_evidence_needs_an_identity_to_verify(tmp_path):
    """A provenance bundle carrying a Fulcio certificate is not checked against a key: without
    --identity and --oidc-issuer verification refuses instead of trusting what it ships."""
    root = attested_copy(tmp_path / "p")
    bundle = json.loads((root / L.PROVENANCE).read_text())
    bundle["verificationMaterial"] = {"certificate": {"rawBytes": "MAA="}, "tlogEntries": []}
    (root / L.PROVENANCE).write_text(json.dumps(bundle))
    report = verify_attestations(root)
    assert not report.ok and report.failures[0].name == "trust"
    assert "--identity and --oidc-issuer" in report.failures[0].detail
    pinned = verify_attestations(root, trust=Trust(public_key=root / L.PUBLIC_KEY))
    assert "sigstore-signed; --public-key does not apply" in pinned.failures[0].detail
