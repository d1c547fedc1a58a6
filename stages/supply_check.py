"""Stage supply_check: SBOM, secret scan, signed checkpoints, base-model provenance, before
the gate -> supply/ and metrics/supply_chain.json (the policy's supply_chain evidence)."""

from _common import ROOT, run_stage
from promgate.supply.check import run_supply_check


def main() -> None:
    result = run_supply_check(ROOT)
    evidence, signer = result.evidence, result.evidence["signer"]
    flags = ("sbom_verified", "checkpoints_signed", "provenance_complete", "secret_scan_clean")
    print(", ".join(f"{flag} {str(evidence[flag]).lower()}" for flag in flags))
    for section in ("sbom", "checkpoints", "provenance"):
        for problem in evidence[section]["problems"]:
            print(f"  {section}: {problem}")
    if signer.get("development_key"):
        print(f"  signed with a DEVELOPMENT key: {signer['notice']}")
    print(f"  seconds: {result.timings_s}")


if __name__ == "__main__":
    run_stage(main)
