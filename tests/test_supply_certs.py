"""Certificate-based signing: a local CA, a code-signing leaf, a run attested and verified."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from promgate.supply import layout as L
from promgate.supply.attest import run_attest
from promgate.supply.errors import SupplyChainError, VerificationError
from promgate.supply.signer import CertificateSigner, resolve_signer
from promgate.supply.trust import Trust
from promgate.supply.verify import verify_attestations
from supply_helpers import LocalCA, make_project, reuse_environment_sbom, run_cli

ADAPTER = "models/candidates/lora-s1/adapter_model.safetensors"


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> LocalCA:
    return LocalCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def attested(tmp_path_factory, ca) -> Path:
    """A small run attested with a certificate issued by ``ca`` (real SBOM, real signing)."""
    root = make_project(tmp_path_factory.mktemp("cert") / "p")
    run_attest(root, signer=resolve_signer(root, ca.env(ca.leaf())))
    return root


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest, symlinks=True)
    return dest


def _flip_byte(path: Path, offset: int = -2) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_certificate_signed_run_verifies_against_the_ca(attested, ca):
    report = verify_attestations(attested, trust=Trust(certificate_chain=(ca.root,)))
    assert report.ok, report.failures
    assert report.signing_method == "certificate" and report.key_source == "given"
    assert "promgate test root" in report.trusted
    assert report.checks[-1].name == "recompute:gate" and report.development_key is False
    names = {c.name for c in report.checks}
    assert {"signature:checkpoint:lora-s1", "digest:certificate-chain"} <= names


def test_attestations_name_the_certificate_and_ship_the_chain(attested, ca):
    decision = json.loads((attested / L.DECISION).read_text())
    signer = decision["signer"]
    assert signer["mode"] == "certificate" and signer["development_key"] is False
    assert signer["certificate"]["subject"] == "CN=release signer"
    assert signer["certificate"]["issuer"] == "CN=promgate test root"
    assert (attested / L.SIGNING_CHAIN).read_bytes() == ca.root.read_bytes()
    assert not (attested / L.PUBLIC_KEY).exists()
    bundle = json.loads((attested / L.PROVENANCE).read_text())
    assert len(bundle["verificationMaterial"]["x509CertificateChain"]["certificates"]) == 2
    readme = (attested / L.README).read_text()
    assert "model_signing verify certificate models/candidates/lora-s1" in readme
    assert "DEVELOPMENT" not in readme


def test_without_a_chain_the_shipped_one_is_trusted_and_said_so(attested):
    report = verify_attestations(attested)
    assert report.ok and report.key_source == "shipped with the evidence"
    assert any("--certificate-chain to pin a CA" in n for n in report.notes)


def test_a_tampered_checkpoint_is_named(attested, ca, tmp_path):
    root = _copy(attested, tmp_path / "p")
    _flip_byte(root / ADAPTER)
    report = verify_attestations(root, trust=Trust(certificate_chain=(ca.root,)))
    first = report.failures[0]
    assert first.name == "signature:checkpoint:lora-s1"
    assert "adapter_model.safetensors: content changed" in first.detail


def test_a_certificate_from_another_ca_is_refused_and_named(attested, tmp_path):
    other = LocalCA(tmp_path / "other", name="another root")
    report = verify_attestations(attested, trust=Trust(certificate_chain=(other.root,)))
    first = report.failures[0]
    assert first.name == "statement:provenance"
    assert "CN=release signer does not chain to a trusted certificate" in first.detail


def test_evidence_resigned_by_another_ca_is_refused(attested, ca, tmp_path, monkeypatch):
    """An attacker with their own CA re-attests everything: the pinned CA refuses all of it."""
    reuse_environment_sbom(monkeypatch)
    root = _copy(attested, tmp_path / "p")
    other = LocalCA(tmp_path / "other", name="attacker root")
    run_attest(root, signer=resolve_signer(root, other.env(other.leaf("attacker"))))
    report = verify_attestations(root, trust=Trust(certificate_chain=(ca.root,)))
    assert report.failures[0].name == "statement:provenance"
    assert "CN=attacker does not chain" in report.failures[0].detail


def test_a_public_key_does_not_apply_to_certificate_evidence(attested, ca, tmp_path):
    pub = tmp_path / "k.pub.pem"
    pub.write_bytes(b"unused")
    report = verify_attestations(attested, pub)
    assert report.failures[0].name == "trust"
    assert "certificate-signed; --public-key does not apply" in report.failures[0].detail


def test_cli_verify_takes_the_certificate_chain(attested, ca, tmp_path, capsys):
    args = ["verify", "--root", attested, "--certificate-chain", ca.root]
    assert run_cli(*args) == 0
    assert "certificate-signed, CA CN=promgate test root (given)" in capsys.readouterr().out
    other = LocalCA(tmp_path / "other", name="another root")
    bad = ["verify", "--root", attested, "--certificate-chain", other.root]
    assert run_cli(*bad) == VerificationError.exit_code
    assert "statement:provenance" in capsys.readouterr().err


def test_model_signing_cli_verifies_a_checkpoint_on_its_own(attested, ca, tmp_path):
    root = _copy(attested, tmp_path / "p")
    cli = Path(sys.executable).parent / "model_signing"
    sig = f"{L.SIGNATURES}/checkpoint-lora-s1.sig"

    def verify(chain: Path) -> subprocess.CompletedProcess:
        cmd = [str(cli), "verify", "certificate", "models/candidates/lora-s1"]
        cmd += ["--signature", sig, "--certificate_chain", str(chain)]
        return subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)

    done = verify(ca.root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert verify(LocalCA(tmp_path / "other", name="another root").root).returncode != 0
    _flip_byte(root / ADAPTER)
    assert verify(ca.root).returncode != 0


@pytest.mark.parametrize(
    ("problem", "env", "message"),
    [
        ("no code-signing usage", lambda ca: ca.env(ca.leaf("plain", code_signing=False)),
         "may not sign (needs KeyUsage digitalSignature"),
        ("key of another certificate",
         lambda ca: {**ca.env(ca.leaf("a")), "PROMGATE_SIGNING_CERT": str(ca.leaf("b")["cert"])},
         "does not belong to the signing key"),
        ("chain without the issuer",
         lambda ca: {**ca.env(ca.leaf()),
                     "PROMGATE_SIGNING_CERT_CHAIN": str(LocalCA(ca.folder / "x", "x").root)},
         "PROMGATE_SIGNING_CERT_CHAIN: certificate CN=release signer does not chain"),
        ("missing certificate",
         lambda ca: {k: v for k, v in ca.env(ca.leaf()).items() if k != "PROMGATE_SIGNING_CERT"},
         "needs PROMGATE_SIGNING_CERT (the signing key"),
        ("unreadable certificate",
         lambda ca: {**ca.env(ca.leaf()), "PROMGATE_SIGNING_CERT": str(ca.folder / "nope.pem")},
         "not readable PEM certificates"),
    ],
    ids=lambda v: v if isinstance(v, str) and " " in v else "",
)  # fmt: skip
def test_an_unusable_certificate_is_refused_before_signing(ca, tmp_path, problem, env, message):
    with pytest.raises(SupplyChainError) as caught:
        resolve_signer(tmp_path, env(ca))
    assert message in str(caught.value), problem


def test_the_refusal_happens_before_anything_is_written(ca, tmp_path, monkeypatch):
    reuse_environment_sbom(monkeypatch)
    root = make_project(tmp_path / "p")
    for name, value in ca.env(ca.leaf("plain", code_signing=False)).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SupplyChainError, match="may not sign"):
        run_attest(root)
    assert not (root / L.ATTESTATIONS).exists()


def test_certificate_signer_describes_itself_without_secrets(ca, tmp_path):
    signer = resolve_signer(tmp_path, ca.env(ca.leaf()))
    assert isinstance(signer, CertificateSigner)
    text = json.dumps(signer.describe())
    assert "PRIVATE" not in text and "certificate_sha256" in text
