"""model_signing signatures over one file or one folder (a Sigstore bundle per subject).

The bundles are exactly what ``model_signing sign key|certificate|sigstore`` writes, so
``model_signing verify ...`` checks any of them without promgate. Hashing uses the library
defaults (per-file sha256; git metadata files ignored), which the CLI assumes.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import model_signing

from promgate.io import sha256_file
from promgate.supply.errors import SupplyChainError

# model_signing skips these inside a folder by default; the diagnosis must skip them too.
_IGNORED = {".git", ".gitattributes", ".github", ".gitignore"}


def sign_subject(subject: Path, signature: Path, config: model_signing.signing.Config) -> None:
    """Sign ``subject`` with a signing config (``Signer.signing_config()``)."""
    signature.parent.mkdir(parents=True, exist_ok=True)
    try:
        config.sign(subject, signature)
    except ValueError as exc:
        # Symlinks are refused (model_signing's default, and the CLI's): with DVC that means
        # cache.type symlink; copies, reflinks and hardlinks are plain files.
        hint = " (DVC: use cache.type reflink/copy/hardlink)" if "symlink" in str(exc) else ""
        raise SupplyChainError(f"{subject}: cannot sign: {exc}{hint}") from exc


def _signed_digests(signature: Path) -> dict[str, str]:
    """The file -> sha256 list inside a bundle (read only after its signature was checked)."""
    bundle = json.loads(signature.read_text(encoding="utf-8"))
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    return {r["name"]: r["digest"] for r in statement["predicate"]["resources"]}


def _actual_digests(subject: Path) -> dict[str, str]:
    if subject.is_file():
        return {".": sha256_file(subject)}
    files = {}
    for path in sorted(subject.rglob("*")):
        rel = path.relative_to(subject)
        if path.is_file() and not _IGNORED.intersection(rel.parts):
            files[rel.as_posix()] = sha256_file(path)
    return files


def _diagnose(subject: Path, signature: Path, shown: str) -> str:
    """The first file that differs from the signed manifest, in words."""
    signed, actual = _signed_digests(signature), _actual_digests(subject)
    for name in sorted(set(signed) | set(actual)):
        where = shown if name == "." else f"{shown}/{name}"
        if name not in actual:
            return f"{where}: signed file is missing"
        if name not in signed:
            return f"{where}: file was not signed (added after signing)"
        if signed[name] != actual[name]:
            now, then = actual[name][:12], signed[name][:12]
            return f"{where}: content changed (sha256 {now}…, signed {then}…)"
    return "the signed manifest differs from the files (no single file named by the library)"


def verify_subject(
    subject: Path,
    signature: Path,
    config: model_signing.verifying.Config,
    *,
    shown: str | None = None,
) -> str | None:
    """None when the signature verifies under ``config`` and matches the files; else why.

    ``config`` is a fresh model_signing verifying config (``Verifier.model_signing_config()``);
    ``shown`` is how the subject is named in the answer (e.g. relative to the repository).
    """
    shown = shown or subject.as_posix()
    if not signature.is_file():
        return f"{signature.name}: signature file is missing"
    if not subject.exists():
        return f"{shown}: signed subject is missing"
    try:
        config.verify(subject, signature)
    except ValueError as exc:
        message = str(exc)
        if message.startswith("Signature mismatch"):
            return _diagnose(subject, signature, shown)
        if message.startswith("Key mismatch"):
            return "signed with a different key than the one given"
        return f"invalid signature bundle ({message.splitlines()[0]})"
    except Exception as exc:  # cryptography's InvalidSignature, OpenSSL, protobuf, sigstore
        name = type(exc).__name__
        detail = str(exc).splitlines()[0] if str(exc) else "the signature does not verify"
        if name == "X509StoreContextError":
            return f"the signing certificate does not chain to a trusted certificate ({detail})"
        return f"signature does not verify ({name}: {detail})"
    return None
