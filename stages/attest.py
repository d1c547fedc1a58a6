"""Stage attest: SBOMs, signatures and in-toto statements over the run -> attestations/."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.supply.attest import run_attest


def main() -> None:
    load_params(ROOT / "params.yaml")  # fail on a bad config before anything is signed
    summary = run_attest(ROOT)
    key = "DEVELOPMENT key" if summary.signer["development_key"] else "key"
    print(
        f"attested decision {summary.decision}: {len(summary.subjects)} subjects signed with "
        f"{key} {summary.signer['key_fingerprint_sha256'][:16]}… in {summary.timings_s['total']} s"
    )


if __name__ == "__main__":
    run_stage(main)
