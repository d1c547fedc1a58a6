"""The decision ledger: signed, hash-chained, append-only; any edit of the past is caught."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from promgate.supply import ledger
from promgate.supply.errors import LedgerError
from promgate.supply.keys import ENV_KEY, generate_dev_key, resolve_signing_key


def _key(tmp_path: Path, name: str = "k.pem"):
    path = tmp_path / name
    generate_dev_key(path)
    return resolve_signing_key(tmp_path, {ENV_KEY: str(path)})


def _entry(version: str, action: str = "promote", **extra) -> dict:
    return {"action": action, "artifact": "model", "stage": "prod", "version": version,
            "candidate": "lora-s1", "decision": "GO", "policy": "miso_v1@1.0", **extra}  # fmt: skip


def _ledger(tmp_path: Path) -> tuple[Path, object]:
    path, key = tmp_path / "ledger.jsonl", _key(tmp_path)
    ledger.append(path, _entry("v0.1.0"), key, "2026-01-01T10:00:00Z")
    ledger.append(path, _entry("v0.2.0"), key, "2026-01-02T10:00:00Z")
    ledger.append(
        path, _entry("v0.1.0", "rollback", from_version="v0.2.0"), key, "2026-01-03T10:00:00Z"
    )
    return path, key


def _rewrite(path: Path, index: int, change) -> None:
    lines = path.read_text().splitlines()
    entry = json.loads(lines[index])
    change(entry)
    lines[index] = json.dumps(entry)
    path.write_text("\n".join(lines) + "\n")


def test_chain_verifies_and_links(tmp_path):
    path, key = _ledger(tmp_path)
    entries = ledger.verify_entries(path, [key.public_key])
    assert [e["seq"] for e in entries] == [0, 1, 2]
    assert entries[0]["prev"] == ledger.GENESIS
    assert entries[1]["prev"] == entries[0]["hash"] and entries[2]["prev"] == entries[1]["hash"]
    assert entries[0]["signer"]["key_fingerprint_sha256"] == key.fingerprint


@pytest.mark.parametrize(
    ("index", "change", "expected"),
    [
        (0, lambda e: e.update(version="v9.9.9"), "entry 0 (line 1): hash does not match"),
        (1, lambda e: e.update(decision="NO_GO"), "entry 1 (line 2): hash does not match"),
    ],
)
def test_editing_a_past_entry_breaks_it(tmp_path, index, change, expected):
    path, _ = _ledger(tmp_path)
    _rewrite(path, index, change)
    with pytest.raises(LedgerError, match=re.escape(expected)):
        ledger.verify_entries(path)


def test_an_edit_with_a_recomputed_hash_fails_on_the_signature(tmp_path):
    import hashlib

    path, _ = _ledger(tmp_path)

    def forge(entry: dict) -> None:
        entry["reason"] = "rewritten"
        body = {k: v for k, v in entry.items() if k != "hash"}
        entry["hash"] = hashlib.sha256(ledger.canonical(body)).hexdigest()

    _rewrite(path, 1, forge)
    with pytest.raises(LedgerError, match=r"entry 1 .*signature covers different content"):
        ledger.verify_entries(path)


def test_a_re_signed_edit_breaks_the_next_link(tmp_path):
    path, key = _ledger(tmp_path)
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    forged = tmp_path / "forged.jsonl"
    record = {
        k: first[k] for k in ("action", "artifact", "stage", "candidate", "decision", "policy")
    }
    ledger.append(forged, {**record, "version": "v6.6.6"}, key, first["time"])
    path.write_text(forged.read_text() + "\n".join(lines[1:]) + "\n")
    with pytest.raises(LedgerError, match=r"entry 1 .*prev does not match"):
        ledger.verify_entries(path)


def test_removing_an_entry_is_caught(tmp_path):
    path, _ = _ledger(tmp_path)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], lines[2]]) + "\n")
    with pytest.raises(LedgerError, match=r"entry 1 .*seq is 2"):
        ledger.verify_entries(path)


def test_an_untrusted_key_is_caught(tmp_path):
    path, _ = _ledger(tmp_path)
    other = _key(tmp_path, "other.pem")
    with pytest.raises(LedgerError, match="not a trusted key"):
        ledger.verify_entries(path, [other.public_key])


def test_append_refuses_a_broken_chain(tmp_path):
    path, key = _ledger(tmp_path)
    _rewrite(path, 0, lambda e: e.update(version="v9.9.9"))
    with pytest.raises(LedgerError):
        ledger.append(path, _entry("v0.3.0"), key, "2026-01-04T10:00:00Z")


def test_what_was_in_production_at_time_t(tmp_path):
    path, _ = _ledger(tmp_path)
    entries = ledger.verify_entries(path)

    def at(text: str) -> str | None:
        state = ledger.state_at(entries, ledger.parse_time(text))
        return state["model#prod"]["version"] if state else None

    assert at("2025-12-31T00:00:00Z") is None
    assert at("2026-01-01T12:00:00Z") == "v0.1.0"
    assert at("2026-01-02T10:00:00") == "v0.2.0"  # no zone: UTC
    assert at("2026-01-03T11:00:00+01:00") == "v0.1.0"
    why = ledger.summary(ledger.state_at(entries, datetime.now(UTC))["model#prod"])
    assert "rollback by ledger entry 2" in why and "lora-s1" in why
