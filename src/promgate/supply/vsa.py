"""The verification summary attestation (SLSA VSA v1): the gate's decision on the candidates.

verificationResult is PASSED only for GO. The decision, policy and evidence digests are
repeated under ``promgate`` so a consumer of the VSA alone sees why.
"""

from __future__ import annotations

from typing import Any

PREDICATE_TYPE = "https://slsa.dev/verification_summary/v1"
VERIFIER_ID = "urn:promgate:verifier:promotion-gate"


def build_vsa(
    *,
    subjects: list[dict[str, Any]],
    decision: dict[str, Any],
    policy_uri: str,
    policy_sha256: str,
    input_attestations: list[dict[str, Any]],
    verifier_version: dict[str, str],
    time_verified: str,
    signer: dict[str, Any],
) -> dict[str, Any]:
    passed = decision["decision"] == "GO"
    return {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": subjects,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "verifier": {"id": VERIFIER_ID, "version": verifier_version},
            "timeVerified": time_verified,
            "resourceUri": "models/candidates",
            "policy": {"uri": policy_uri, "digest": {"sha256": policy_sha256}},
            "inputAttestations": input_attestations,
            "verificationResult": "PASSED" if passed else "FAILED",
            "verifiedLevels": [f"PROMGATE_DECISION_{decision['decision']}"],
            "promgate": {
                "decision": decision["decision"],
                "candidates": decision["candidates"],
                "gate_report": decision["gate_report"],
                "signer": signer,
            },
        },
    }
