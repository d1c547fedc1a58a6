"""The decision ledger: append-only JSONL, each entry signed and chained to the one before.

Every line carries ``prev`` (the previous entry's hash), the signer's public key, a DSSE
signature over the entry's canonical JSON, and its own ``hash`` (sha256 of the canonical JSON
including the signature). Editing any past line breaks its hash, its signature, or the next
line's ``prev``. ``state_at`` answers "what was in each stage at time T, and why".
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from promgate.supply.dsse import DsseError, open_bytes, sign_bytes
from promgate.supply.errors import LedgerError
from promgate.supply.keys import SigningKey, fingerprint, public_pem

GENESIS = "0" * 64
PAYLOAD_TYPE = "application/vnd.promgate.ledger-entry+json"


def canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def parse_time(text: str) -> datetime:
    """ISO 8601; a time without a zone is UTC."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def read_entries(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    entries = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise LedgerError(
                f"ledger:{path.name}", f"line {number}: not JSON ({exc.msg})"
            ) from exc
    return entries


def _check(entry: dict[str, Any], seq: int, prev: str, trusted: set[str] | None) -> str | None:
    """Why this entry does not belong at position ``seq`` after ``prev``; None if it does."""
    body = {k: v for k, v in entry.items() if k not in ("hash", "signature")}
    signed = {**body, "signature": entry.get("signature")}
    if entry.get("seq") != seq:
        return f"seq is {entry.get('seq')}, expected {seq} (entry removed or reordered)"
    if entry.get("prev") != prev:
        return "prev does not match the previous entry's hash (an earlier entry was changed)"
    if entry.get("hash") != hashlib.sha256(canonical(signed)).hexdigest():
        return "hash does not match the entry's content (the entry was edited)"
    try:
        key = serialization.load_pem_public_key(entry["signer"]["public_key"].encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return "the signer's public key is not an EC key"
        payload = open_bytes(entry["signature"], key, PAYLOAD_TYPE)
    except (KeyError, TypeError, ValueError, DsseError) as exc:
        return f"signature does not verify ({exc})"
    if payload != canonical(body):
        return "the signature covers different content (the entry was edited)"
    if trusted is not None and fingerprint(key) not in trusted:
        return f"signed by key {fingerprint(key)[:12]}…, not a trusted key"
    return None


def verify_entries(
    path: Path, trusted: list[ec.EllipticCurvePublicKey] | None = None
) -> list[dict[str, Any]]:
    """All entries, or LedgerError naming the first line that breaks the chain."""
    fingerprints = {fingerprint(k) for k in trusted} if trusted else None
    entries = read_entries(path)
    prev = GENESIS
    for seq, entry in enumerate(entries):
        problem = _check(entry, seq, prev, fingerprints)
        if problem:
            raise LedgerError(f"ledger:{path.name}", f"entry {seq} (line {seq + 1}): {problem}")
        prev = entry["hash"]
    return entries


def append(path: Path, record: dict[str, Any], key: SigningKey, now: str) -> dict[str, Any]:
    """Verify the chain, then add one signed entry at its end (never rewrite the file)."""
    entries = verify_entries(path)
    body = {
        "seq": len(entries),
        "prev": entries[-1]["hash"] if entries else GENESIS,
        "time": now,
        **record,
        "signer": {
            "key_fingerprint_sha256": key.fingerprint,
            "development_key": key.development,
            "public_key": public_pem(key.public_key).decode("ascii"),
        },
    }
    signature = sign_bytes(canonical(body), key, PAYLOAD_TYPE)
    entry = {**body, "signature": signature}
    entry["hash"] = hashlib.sha256(canonical(entry)).hexdigest()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def state_at(entries: list[dict[str, Any]], when: datetime) -> dict[str, dict[str, Any]]:
    """``artifact#stage`` -> the entry that put its version there, as of ``when``."""
    state: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if parse_time(entry["time"]) > when:
            break
        state[f"{entry['artifact']}#{entry['stage']}"] = entry
    return state


def summary(entry: dict[str, Any]) -> str:
    why = entry.get("reason") or ""
    return (
        f"{entry['artifact']}#{entry['stage']} = {entry['version']} since {entry['time']} "
        f"({entry['action']} by ledger entry {entry['seq']}; candidate {entry.get('candidate')}, "
        f"decision {entry.get('decision')} under {entry.get('policy')}, commit "
        f"{(entry.get('commit') or '')[:12]}){': ' + why if why else ''}"
    )
