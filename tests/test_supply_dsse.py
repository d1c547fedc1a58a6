"""DSSE in-toto statements in Sigstore bundles: round trip, wrong key, edited payload."""

from __future__ import annotations

import base64
import json

import pytest

from promgate.supply.dsse import DsseError, open_statement, pae, sign_statement
from promgate.supply.keys import resolve_signing_key

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "a", "digest": {"sha256": "0" * 64}}],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {"x": 1},
}


def test_pae_is_the_dsse_v1_encoding():
    assert pae("t", b"hello") == b"DSSEv1 1 t 5 hello"


def test_round_trip(tmp_path):
    key = resolve_signing_key(tmp_path, {})
    bundle = sign_statement(STATEMENT, key)
    assert bundle["verificationMaterial"]["publicKey"]["hint"] == key.fingerprint
    assert open_statement(bundle, key.public_key, STATEMENT["predicateType"]) == STATEMENT


def test_wrong_key_and_wrong_type_are_refused(tmp_path):
    key = resolve_signing_key(tmp_path / "a", {})
    other = resolve_signing_key(tmp_path / "b", {})
    bundle = sign_statement(STATEMENT, key)
    with pytest.raises(DsseError, match="not the given key"):
        open_statement(bundle, other.public_key, STATEMENT["predicateType"])
    with pytest.raises(DsseError, match="predicateType"):
        open_statement(bundle, key.public_key, "https://slsa.dev/verification_summary/v1")


def test_an_edited_payload_does_not_verify(tmp_path):
    key = resolve_signing_key(tmp_path, {})
    bundle = sign_statement(STATEMENT, key)
    forged = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    forged["predicate"]["x"] = 2
    bundle["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(forged).encode()).decode()
    with pytest.raises(DsseError, match="does not verify"):
        open_statement(bundle, key.public_key, STATEMENT["predicateType"])
