"""Stage attest: SBOMs, signatures and in-toto statements over the run -> attestations/."""

from _common import ROOT, run_stage
from promgate.config import load_params
from promgate.supply.attest import run_attest


def _who(signer: dict) -> str:
    if signer["mode"] == "certificate":
        return f"certificate {signer['certificate']['subject']}"
    if signer["mode"] == "sigstore":
        return f"Sigstore identity {signer['identity']}"
    kind = "DEVELOPMENT key" if signer["development_key"] else "key"
    return f"{kind} {signer['key_fingerprint_sha256'][:16]}…"


def main() -> None:
    load_params(ROOT / "params.yaml")  # fail on a bad config before anything is signed
    summary = run_attest(ROOT)
    print(
        f"attested decision {summary.decision}: {len(summary.subjects)} subjects signed with "
        f"{_who(summary.signer)} in {summary.timings_s['total']} s"
    )


if __name__ == "__main__":
    run_stage(main)
