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
    signed_by, trust_flag, check_one = _method(signer)
    lines += [
        f"Decision **{record.decision}** under policy `{policy}` (baseline `{record.baseline}`;"
        f" candidates {judged}).",
        "",
        f"Signed by: {signed_by}.",
        "",
        "## Check everything",
        "",
        "```bash",
        f"promgate verify {trust_flag}",
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
    for s in subjects:
        lines.append(f"model_signing verify {check_one.format(path=s.path, sig=s.signature)}")
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


def _method(signer: dict[str, Any]) -> tuple[str, str, str]:
    """(who signed, the verify flag that pins them, the model_signing verify arguments)."""
    mode = signer.get("mode", "key")
    if mode == "certificate":
        cert = signer["certificate"]
        return (
            f"X.509 certificate `{cert['subject']}` issued by `{cert['issuer']}` (sha256 "
            f"`{cert['certificate_sha256']}`); the chain it was signed with is `{L.SIGNING_CHAIN}`",
            "--certificate-chain <the CA certificates you trust>",
            "certificate {path} --signature {sig} --certificate_chain <trusted CA PEM>",
        )
    if mode == "sigstore":
        return (
            f"Sigstore keyless, identity `{signer['identity']}` from `{signer['oidc_issuer']}`"
            " (a short-lived Fulcio certificate and a Rekor entry per signature; checking"
            " needs network or a trust config)",
            f"--identity {signer['identity']} --oidc-issuer {signer['oidc_issuer']}",
            f"sigstore {{path}} --signature {{sig}} --identity {signer['identity']} "
            f"--identity_provider {signer['oidc_issuer']}",
        )
    return (
        f"ECDSA key, sha256 of the PEM public key `{signer['key_fingerprint_sha256']}`"
        f" (`{L.PUBLIC_KEY}`); checking is offline",
        "--public-key <the key you trust>",
        f"key {{path}} --signature {{sig}} --public_key {L.PUBLIC_KEY}",
    )
