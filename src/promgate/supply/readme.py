"""attestations/README.md: what was signed, by which key, and how to check it by hand.

Informational and not itself signed; everything it lists is.
"""

from __future__ import annotations

from typing import Any

from promgate.supply import layout as L
from promgate.supply.decision import DecisionRecord


def render_readme(record: DecisionRecord, subjects: list[L.Subject], signer: dict[str, Any]) -> str:
    lines = ["# Attestations", ""]
    if signer.get("development_key"):
        lines += [f"> **{signer['notice']}**", ""]
    policy = f"{record.policy.name}@{record.policy.version}"
    judged = ", ".join(f"`{c}` {d}" for c, d in record.candidates.items())
    fp = signer["key_fingerprint_sha256"]
    lines += [
        f"Decision **{record.decision}** under policy `{policy}` (baseline `{record.baseline}`;"
        f" candidates {judged}).",
        "",
        f"Signing key: ECDSA, sha256 of the PEM public key `{fp}` (`{L.PUBLIC_KEY}`).",
        "",
        "## Check everything (offline)",
        "",
        "```bash",
        "promgate verify --public-key <the key you trust>",
        "```",
        "",
        "It checks every signature and digest below and both in-toto statements, then recomputes",
        "the gate from the per-item results and the policy and compares it byte for byte with",
        f"`{L.GATE_JSON}`.",
        "",
        "## Check one signature without promgate",
        "",
        "```bash",
    ]
    pub = L.PUBLIC_KEY
    for s in subjects:
        lines.append(
            f"model_signing verify key {s.path} --signature {s.signature} --public_key {pub}"
        )
    lines += [
        "```",
        "",
        "## Files",
        "",
        "| file | what |",
        "|---|---|",
        f"| `{L.PROVENANCE}` | SLSA provenance v1 (in-toto, DSSE, Sigstore bundle) |",
        f"| `{L.VSA}` | verification summary (SLSA VSA v1) of the decision |",
        f"| `{L.DECISION}` | the decision record |",
        f"| `{L.ENV_SBOM}` | CycloneDX 1.6 SBOM of the Python environment |",
        f"| `{L.ML_BOM}` | CycloneDX 1.6 ML-BOM: models, datasets, metrics with CIs |",
        f"| `{L.SIGNATURES}/` | model_signing Sigstore bundles, one per signed file or folder |",
        f"| `{L.SECRET_SCAN}` | the detect-secrets scan that ran before signing |",
        "",
    ]
    return "\n".join(lines)
