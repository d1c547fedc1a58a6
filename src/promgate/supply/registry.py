"""Promotion and rollback: GTO git tags for the registry, the signed ledger for the record.

``promote`` registers a semantic version of the commit that holds a verified GO decision
(tag ``<artifact>@vX.Y.Z``) and assigns it a stage (tag ``<artifact>#<stage>#N``).
``rollback`` re-points the stage to the most recent earlier GO promotion in the ledger that
was not itself rolled back. Both append a signed entry to the ledger.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gto.api
from gto.exceptions import ArtifactNotFound, GTOException

from promgate.gates.outcome import Decision
from promgate.io import sha256_file
from promgate.supply import layout as L
from promgate.supply import ledger
from promgate.supply.attest import utc_now
from promgate.supply.decision import DecisionRecord
from promgate.supply.errors import PromotionRefusedError
from promgate.supply.gitinfo import git, uncommitted
from promgate.supply.keys import SigningKey, load_public_key, resolve_signing_key
from promgate.supply.trust import Trust
from promgate.supply.verify import verify_attestations

DEFAULT_ARTIFACT = "model"
DEFAULT_STAGE = "prod"
# The tag must point at a commit holding exactly the evidence that was verified.
_FIRST_VERSION = {"major": "v1.0.0", "minor": "v0.1.0", "patch": "v0.0.1"}
_MUST_BE_COMMITTED = [L.ATTESTATIONS, "reports", "metrics", L.PARAMS, "dvc.lock"]


def _stage_tags(root: Path, artifact: str, stage: str) -> list[str]:
    """GTO's assignment tags for a stage, oldest first (GTO numbers them #1, #2, ...)."""
    tags = git(root, "tag", "--list", f"{artifact}#{stage}#*").splitlines()
    numbered = [(int(t.rsplit("#", 1)[1]), t) for t in tags if t.rsplit("#", 1)[1].isdigit()]
    return [t for _, t in sorted(numbered)]


def current_version(root: Path, artifact: str, stage: str) -> str | None:
    """The version the newest assignment tag names (GTO orders same-second tags ambiguously)."""
    tags = _stage_tags(root, artifact, stage)
    if not tags:
        return None
    events = gto.api.check_ref(str(root), tags[-1])
    return events[0].version if events else None


def _version_at(root: Path, artifact: str, commit: str) -> str | None:
    """The version registered at ``commit``, if any (none before the first registration)."""
    try:
        versions = gto.api.show(str(root), artifact)
    except ArtifactNotFound:
        return None
    for version in versions:
        if version["commit_hexsha"] == commit and version.get("registrations"):
            return version["version"]
    return None


def _has_versions(root: Path, artifact: str) -> bool:
    return bool(git(root, "tag", "--list", f"{artifact}@v*"))


def _tag_commit(root: Path, tag: str) -> str | None:
    return git(root, "rev-list", "-n", "1", tag, check=False) or None


def _pick_candidate(record: DecisionRecord, wanted: str | None) -> str:
    go = [c for c, d in record.candidates.items() if d is Decision.GO]
    if wanted is not None:
        if wanted not in record.candidates:
            raise PromotionRefusedError(
                f"candidate '{wanted}' is not in the decision ({', '.join(record.candidates)})"
            )
        if wanted not in go:
            raise PromotionRefusedError(
                f"candidate '{wanted}' is {record.candidates[wanted]}, not GO"
            )
        return wanted
    if len(go) != 1:
        raise PromotionRefusedError(
            f"choose the candidate to promote with --candidate ({', '.join(go)})"
        )
    return go[0]


def promote(
    root: Path,
    *,
    candidate: str | None = None,
    artifact: str = DEFAULT_ARTIFACT,
    stage: str = DEFAULT_STAGE,
    version: str | None = None,
    bump: str = "minor",
    reason: str = "",
    public_key: Path | None = None,
    key: SigningKey | None = None,
    trust: Trust | None = None,
) -> dict[str, Any]:
    """Verify, refuse anything but GO, tag the commit, assign the stage, record it signed.

    ``trust`` is what the attestations are verified against (``public_key`` is shorthand).
    """
    root = Path(root).resolve()
    verify_attestations(root, public_key, trust=trust).raise_first()
    record = DecisionRecord.model_validate_json((root / L.DECISION).read_bytes())
    if record.decision is not Decision.GO:
        raise PromotionRefusedError(
            f"the decision is {record.decision}: only a GO decision can be promoted"
        )
    chosen = _pick_candidate(record, candidate)
    dirty = uncommitted(root, _MUST_BE_COMMITTED)
    if dirty:
        raise PromotionRefusedError(
            f"commit the evidence first; uncommitted: {', '.join(dirty[:5])}"
        )
    commit = git(root, "rev-parse", "HEAD")
    current = current_version(root, artifact, stage)
    if current is not None and _version_at(root, artifact, commit) == current:
        raise PromotionRefusedError(f"{artifact} at {commit[:12]} is already in stage {stage}")
    provenance_sha = sha256_file(root / L.PROVENANCE)
    policy = f"{record.policy.name}@{record.policy.version}"
    message = f"promgate: {chosen} GO under {policy}; provenance sha256 {provenance_sha}"
    try:
        registered = _version_at(root, artifact, commit)
        if registered is None:
            if version is None and not _has_versions(root, artifact):
                version = _FIRST_VERSION[bump]  # GTO cannot bump from nothing
            bumps = {f"bump_{bump}": True} if version is None else {}
            gto.api.register(str(root), artifact, "HEAD", version=version, message=message, **bumps)
            registered = _version_at(root, artifact, commit)
        gto.api.assign(str(root), artifact, stage, version=registered, message=message, force=True)
    except GTOException as exc:
        raise PromotionRefusedError(f"gto: {exc}") from exc
    candidate_path = f"{L.CANDIDATES}/{chosen}"
    entry = {
        "action": "promote",
        "artifact": artifact,
        "stage": stage,
        "version": registered,
        "commit": commit,
        "candidate": chosen,
        "candidate_files": {
            k: v for k, v in record.artifacts.items() if k.startswith(candidate_path + "/")
        },
        "decision": str(record.decision),
        "policy": policy,
        "policy_sha256": record.policy.sha256,
        "gate_sha256": record.gate_report["sha256"],
        "decision_sha256": sha256_file(root / L.DECISION),
        "provenance_sha256": provenance_sha,
        "tags": [f"{artifact}@{registered}", _stage_tags(root, artifact, stage)[-1]],
        "reason": reason,
    }
    return ledger.append(root / L.LEDGER, entry, key or resolve_signing_key(root), utc_now())


def rollback_target(
    entries: list[dict[str, Any]], artifact: str, stage: str, current: str | None
) -> dict[str, Any]:
    """The last GO promotion of this stage that is not current and was never rolled back from."""
    mine = [e for e in entries if e["artifact"] == artifact and e["stage"] == stage]
    bad = {e["from_version"] for e in mine if e["action"] == "rollback"} | {current}
    for entry in reversed(mine):
        if (
            entry["action"] == "promote"
            and entry["decision"] == "GO"
            and entry["version"] not in bad
        ):
            return entry
    raise PromotionRefusedError(
        f"no earlier signed GO promotion of {artifact} in {stage} to roll back to"
    )


def rollback(
    root: Path,
    *,
    artifact: str = DEFAULT_ARTIFACT,
    stage: str = DEFAULT_STAGE,
    reason: str = "",
    public_key: Path | None = None,
    key: SigningKey | None = None,
) -> dict[str, Any]:
    root = Path(root).resolve()
    trusted = [load_public_key(public_key)] if public_key else None
    entries = ledger.verify_entries(root / L.LEDGER, trusted)
    current = current_version(root, artifact, stage)
    recorded = next(
        (
            e["version"]
            for e in reversed(entries)
            if e["artifact"] == artifact and e["stage"] == stage
        ),
        None,
    )
    if current != recorded:
        raise PromotionRefusedError(
            f"the registry says {artifact}#{stage} = {current}, the ledger says {recorded}: "
            "resolve that before rolling back"
        )
    target = rollback_target(entries, artifact, stage, current)
    tag = f"{artifact}@{target['version']}"
    if _tag_commit(root, tag) != target["commit"]:
        raise PromotionRefusedError(
            f"tag {tag} no longer points at {target['commit'][:12]} as the ledger records"
        )
    try:
        gto.api.assign(
            str(root),
            artifact,
            stage,
            version=target["version"],
            message=f"promgate rollback from {current}: {reason}".strip(),
            force=True,
        )
    except GTOException as exc:
        raise PromotionRefusedError(f"gto: {exc}") from exc
    entry = {
        "action": "rollback",
        "artifact": artifact,
        "stage": stage,
        "version": target["version"],
        "from_version": current,
        "commit": target["commit"],
        "candidate": target["candidate"],
        "decision": target["decision"],
        "policy": target["policy"],
        "restores_entry": target["seq"],
        "tags": [_stage_tags(root, artifact, stage)[-1]],
        "reason": reason,
    }
    return ledger.append(root / L.LEDGER, entry, key or resolve_signing_key(root), utc_now())
