"""A small promotion project on disk (params, prepared data, base model folder, checkpoints,
results, gate outputs) for the supply-chain tests and bench/attest_time.py, built without the
pipeline; and a local certificate authority for certificate-based signing."""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import random
import shutil
import tempfile
from pathlib import Path

import numpy as np
import yaml

from gate_helpers import POLICY
from promgate.config import load_params
from promgate.io import sha256_file, sha256_tree, write_json
from promgate.models.hf import MODEL_CARD_FILE
from promgate.pipeline import run_gate
from promgate.train.candidate import TRAIN_CARD_FILE
from promgate.train.variants import VARIANT_CARD_FILE

REPO = Path(__file__).resolve().parent.parent


def _write_results(folder: Path, bench: str, outcomes: np.ndarray, model: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{bench}.jsonl").open("w") as handle:
        for i, ok in enumerate(outcomes):
            row = {"id": f"{bench}/{i}", "benchmark": bench, "model_id": model, "correct": bool(ok)}
            handle.write(json.dumps(row) + "\n")


def _prepared(root: Path, benches: list[str], n: int) -> None:
    folder = root / "data/prepared"
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"version": 1, "seed": 1234, "benchmarks": {}}
    for bench in benches:
        path = folder / f"{bench}.jsonl"
        path.write_text(
            "".join(json.dumps({"id": f"{bench}/{i}", "prompt": f"q{i}"}) + "\n" for i in range(n))
        )
        manifest["benchmarks"][bench] = {
            "split": "test",
            "license": "CC-BY-SA-4.0",
            "upstream": {"repository": "example/bench", "commit": "0" * 40},
            "n_total": 10 * n,
            "n_sampled": n,
            "output": {"path": path.name, "sha256": hashlib.sha256(path.read_bytes()).hexdigest()},
        }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def _base_model(folder: Path, model: dict) -> str:
    """A stand-in for models/base (the base_model stage's card, small weights); its digest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").write_bytes(random.Random(0).randbytes(4096))
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}) + "\n")
    card = {
        "name": model["name"],
        "source": f"{model['package']}/{model['gguf_file']}",
        "gguf_sha256": model["gguf_sha256"],
        "dtype": model.get("dtype", "float32"),
        "parameters": 1024,
    }
    write_json(folder / MODEL_CARD_FILE, card)
    return sha256_tree(folder)


def _checkpoint(folder: Path, seed: int, adapter_bytes: int, base_sha256: str) -> None:
    """A candidate folder as the train stage writes it (the card records the adapter digest)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    (folder / "adapter_model.safetensors").write_bytes(rng.randbytes(adapter_bytes))
    (folder / "adapter_config.json").write_text(json.dumps({"r": 8, "lora_alpha": 16}) + "\n")
    card = {
        "seed": seed,
        "base_model_sha256": base_sha256,
        "corpus_sha256": "2" * 64,
        "config": {"lora": {"r": 8, "alpha": 16, "target_modules": ["q_proj", "v_proj"]}},
        "status": "completed",
        "adapter": {
            "file": "adapter_model.safetensors",
            "sha256": sha256_file(folder / "adapter_model.safetensors"),
        },
    }
    (folder / TRAIN_CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")


def _variant(folder: Path, source: Path, seed: int, name: str, root: Path) -> None:
    """A variant folder as the variants stage writes it, cut from the probe at ``source``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"{seed}-{name}")
    (folder / "adapter_model.safetensors").write_bytes(rng.randbytes(4096))
    (folder / "adapter_config.json").write_text(json.dumps({"r": 4, "lora_alpha": 8}) + "\n")
    card = {
        "candidate": folder.name,
        "seed": seed,
        "variant": {"name": name},
        "source_adapter": source.relative_to(root).as_posix(),
        "source_adapter_sha256": sha256_file(source / "adapter_model.safetensors"),
        "summary": {"adapter_sha256": sha256_file(folder / "adapter_model.safetensors")},
    }
    write_json(folder / VARIANT_CARD_FILE, card)


def make_models(root: Path, seeds: list[int], *, adapter_bytes: int = 64 * 1024) -> None:
    """models/base (a stand-in), one trained candidate per seed and the variants params.yaml
    names cut from it, for params.yaml at root."""
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    base_sha256 = _base_model(root / "models/base", params["model"])
    for seed in seeds:
        probe = root / "models/candidates" / f"lora-s{seed}"
        _checkpoint(probe, seed, adapter_bytes, base_sha256)
        for name in (params.get("variants") or {}).get("names") or []:
            _variant(probe.with_name(f"{probe.name}-{name}"), probe, seed, name, root)


def make_prepared(root: Path, benches: list[str], n: int) -> None:
    """data/prepared with its manifest (n items per benchmark)."""
    _prepared(root, benches, n)


def make_project(
    root: Path,
    *,
    seeds: tuple[int, ...] = (1, 2),
    benches: tuple[str, ...] = ("arc", "mmlu"),
    n: int = 400,
    flips: int = 40,
    adapter_bytes: int = 64 * 1024,
    resamples: int | None = None,
    variants: tuple[str, ...] = (),
) -> Path:
    """A project whose gate says GO when ``flips`` > 0 (Δ = flips/n per benchmark), else NO_GO.

    ``variants``: each seed's probe also has these variants, evaluated like the probe."""
    root.mkdir(parents=True, exist_ok=True)
    params = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    params["seeds"] = list(seeds)
    params["data"]["benchmarks"] = list(benches)
    params["variants"]["names"] = list(variants)  # none: one candidate per seed, the probe
    # The gate tests' policy (average and per-benchmark gates): kept valid by whoever
    # changes the policy schema, and GO/NO_GO on constructed suites like these.
    params["policy"] = POLICY.model_dump(mode="json")
    if resamples is not None:
        params["policy"]["bootstrap"]["resamples"] = resamples
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False, allow_unicode=True))
    (root / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    _prepared(root, list(benches), n)
    base_sha256 = _base_model(root / "models/base", params["model"])
    base = np.arange(n) % 2 == 0
    for bench in benches:
        _write_results(root / "results/baseline", bench, base, "baseline")
    for seed in seeds:
        cid = f"lora-s{seed}"
        _checkpoint(root / "models/candidates" / cid, seed, adapter_bytes, base_sha256)
        for name in variants:
            folder = root / "models/candidates" / f"{cid}-{name}"
            _variant(folder, root / "models/candidates" / cid, seed, name, root)
    for cid in [f"lora-s{s}{v}" for s in seeds for v in ("", *(f"-{n}" for n in variants))]:
        for bench in benches:
            cand = base.copy()
            idx = np.flatnonzero(~base if flips > 0 else base)[: abs(flips)]
            cand[idx] = flips > 0
            _write_results(root / "results" / cid, bench, cand, cid)
    with contextlib.chdir(root):
        run_gate(load_params(root / "params.yaml"), root)
    return root


_TEMPLATE: Path | None = None


def attested_template() -> Path:
    """One attested GO project per test session (signed with its own development key)."""
    global _TEMPLATE
    if _TEMPLATE is None:
        from promgate.supply.attest import run_attest

        scratch = Path(tempfile.mkdtemp(prefix="promgate-supply-"))
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        root = make_project(scratch / "project")
        run_attest(root)
        _TEMPLATE = root
    return _TEMPLATE


def attested_copy(dest: Path) -> Path:
    """A private copy of the attested project (with its development key) to tamper with."""
    shutil.copytree(attested_template(), dest, symlinks=True)
    return dest


def reuse_environment_sbom(monkeypatch) -> None:
    """Make run_attest copy the session's environment SBOM instead of running cyclonedx-py
    again (1-2 s each); tests of the SBOM itself use the real one."""
    cached = attested_template() / "attestations/sbom/environment.cdx.json"

    def copy(out: Path, **_: object) -> Path:
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(cached, out)
        return out

    monkeypatch.setattr("promgate.supply.attest.environment_sbom", copy)


def cyclonedx_validator(*, fast_iri: bool = False):
    """The CycloneDX 1.6 JSON schema shipped with cyclonedx-python-lib, strict.

    ``fast_iri`` swaps only the ``iri-reference`` format check (a lark Earley parse taking
    ~0.1 s per URL, 13 s for an environment SBOM) for the RFC 3986 URI-reference check.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    validator = JsonStrictValidator(SchemaVersion.V1_6)
    if not fast_iri:
        return lambda text: validator.validate_str(text)
    from jsonschema import FormatChecker
    from jsonschema.validators import Draft7Validator
    from rfc3986_validator import validate_rfc3986

    inner = validator._validator  # the library's own Draft7Validator: schema and registry
    checker = FormatChecker()
    checker.checkers = dict(Draft7Validator.FORMAT_CHECKER.checkers)
    checker.checkers["iri-reference"] = (lambda v: validate_rfc3986(v, rule="URI_reference"), ())
    fast = Draft7Validator(inner.schema, registry=inner._registry, format_checker=checker)
    return lambda text: next(iter(fast.iter_errors(json.loads(text))), None)


def run_cli(*argv: str) -> int:
    """The supply subcommands exactly as the ``promgate`` command dispatches them."""
    from promgate.cli import main

    return main([str(a) for a in argv])


class LocalCA:
    """A certificate authority on disk: EC P-256 root, leaves made for code signing.

    Leaves carry what model_signing's certificate verifier requires (KeyUsage
    digitalSignature, ExtendedKeyUsage codeSigning) unless told otherwise.
    """

    def __init__(self, folder: Path, name: str = "promgate test root") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
        builder = self._builder(subject, subject, self.key.public_key(), days=30)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        ).add_extension(self._usage(cert_sign=True), critical=True)
        self.cert = self._sign(builder)
        self.root = folder / "root.pem"
        self.root.write_bytes(self._pem(self.cert))

    @staticmethod
    def _builder(subject, issuer, public_key, *, days: int):
        from datetime import UTC, datetime, timedelta

        from cryptography import x509

        now = datetime.now(UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=days))
        )

    @staticmethod
    def _usage(*, cert_sign: bool = False, sign: bool = False):
        from cryptography import x509

        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=cert_sign,
            crl_sign=cert_sign,
            encipher_only=False,
            decipher_only=False,
        )

    def _sign(self, builder):
        from cryptography.hazmat.primitives import hashes

        return builder.sign(self.key, hashes.SHA256())

    @staticmethod
    def _pem(cert) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return cert.public_bytes(serialization.Encoding.PEM)

    def leaf(self, name: str = "release signer", *, code_signing: bool = True) -> dict[str, Path]:
        """A fresh key and its certificate: {"key": ..., "cert": ..., "chain": root}."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
        builder = self._builder(subject, self.cert.subject, key.public_key(), days=7)
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        ).add_extension(self._usage(sign=code_signing), critical=True)
        if code_signing:
            eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING])
            builder = builder.add_extension(eku, critical=False)
        slug = name.replace(" ", "-")
        paths = {"key": self.folder / f"{slug}.key.pem", "cert": self.folder / f"{slug}.pem"}
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        paths["key"].write_bytes(pem)
        paths["key"].chmod(0o600)
        paths["cert"].write_bytes(self._pem(self._sign(builder)))
        return {**paths, "chain": self.root}

    def env(self, leaf: dict[str, Path]) -> dict[str, str]:
        """The environment that selects certificate-based signing with ``leaf``."""
        return {
            "PROMGATE_SIGNING_METHOD": "certificate",
            "PROMGATE_SIGNING_KEY": str(leaf["key"]),
            "PROMGATE_SIGNING_CERT": str(leaf["cert"]),
            "PROMGATE_SIGNING_CERT_CHAIN": str(leaf["chain"]),
        }
