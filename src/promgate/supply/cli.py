"""The supply-chain subcommands: ``verify``, ``promote``, ``rollback`` and ``ledger``.

Wire them into the main parser with ``register(subparsers)``. Exit codes: 6 verification
failed (the first mismatch is named), 7 a secret was found, 8 promotion refused.
``verify`` and ``promote`` take what to trust: ``--public-key`` (key-signed evidence),
``--certificate-chain`` (certificate-signed) or ``--identity`` + ``--oidc-issuer`` (Sigstore).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from promgate.supply import layout as L


def _trust(args: argparse.Namespace):
    from promgate.supply.trust import Trust

    return Trust(
        public_key=args.public_key,
        certificate_chain=tuple(args.certificate_chain or ()),
        identity=args.identity,
        oidc_issuer=args.oidc_issuer,
        sigstore_staging=args.sigstore_staging,
        sigstore_trust_config=args.sigstore_trust_config,
    )


def _verify(args: argparse.Namespace) -> int:
    from promgate.supply.verify import verify_attestations

    report = verify_attestations(Path(args.root), trust=_trust(args))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        for failure in report.failures:
            print(f"FAIL {failure.name}: {failure.detail}", file=sys.stderr)
        for note in report.notes:
            print(f"note: {note}", file=sys.stderr)
        if report.ok:
            dev = ", DEVELOPMENT key" if report.development_key else ""
            print(
                f"verified: {len(report.checks)} checks passed; decision {report.decision}; "
                f"{report.signing_method}-signed, {report.trusted} ({report.key_source}{dev})"
            )
    report.raise_first()
    return 0


def _promote(args: argparse.Namespace) -> int:
    from promgate.supply.ledger import summary
    from promgate.supply.registry import promote

    entry = promote(
        Path(args.root),
        candidate=args.candidate,
        artifact=args.artifact,
        stage=args.stage,
        version=args.version,
        bump=args.bump,
        reason=args.reason,
        trust=_trust(args),
    )
    print(summary(entry))
    print(f"tags: {', '.join(entry['tags'])}; commit {L.LEDGER} and push the tags")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from promgate.supply.ledger import summary
    from promgate.supply.registry import rollback

    entry = rollback(
        Path(args.root),
        artifact=args.artifact,
        stage=args.stage,
        reason=args.reason,
        public_key=args.public_key,
    )
    print(summary(entry))
    print(f"tag: {entry['tags'][0]}; commit {L.LEDGER} and push the tags")
    return 0


def _ledger(args: argparse.Namespace) -> int:
    from promgate.supply import ledger
    from promgate.supply.keys import load_public_key

    trusted = [load_public_key(args.public_key)] if args.public_key else None
    entries = ledger.verify_entries(Path(args.root) / L.LEDGER, trusted)
    if args.action == "verify":
        print(f"{L.LEDGER}: {len(entries)} entries, chain and signatures verify")
        return 0
    when = ledger.parse_time(args.time) if args.time else datetime.now(UTC)
    state = ledger.state_at(entries, when)
    if not state:
        print(f"nothing was in any stage at {when.isoformat()}")
    for entry in state.values():
        print(ledger.summary(entry))
    return 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=".", help="the repository root (default: .)")
    parser.add_argument("--public-key", type=Path, default=None, help="PEM public key to trust")


def _trust_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--certificate-chain",
        type=Path,
        action="append",
        metavar="FILE",
        help="PEM CA certificates to trust for certificate-signed evidence (repeatable)",
    )
    parser.add_argument("--identity", help="Sigstore keyless: the signer identity to expect")
    parser.add_argument("--oidc-issuer", help="Sigstore keyless: the OIDC issuer to expect")
    parser.add_argument(
        "--sigstore-staging", action="store_true", help="Sigstore keyless: staging instance"
    )
    parser.add_argument(
        "--sigstore-trust-config", type=Path, help="Sigstore keyless: a client trust config file"
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    verify = subparsers.add_parser(
        "verify", help="check every signature, digest and statement offline; recompute the gate"
    )
    _common(verify)
    _trust_flags(verify)
    verify.add_argument("--json", action="store_true", help="print the full report as JSON")
    verify.set_defaults(func=_verify)

    promote = subparsers.add_parser(
        "promote", help="register a verified GO candidate (GTO tag) and assign it a stage"
    )
    _common(promote)
    _trust_flags(promote)
    promote.add_argument("--candidate", help="which GO candidate (required if several)")
    promote.add_argument("--artifact", default="model")
    promote.add_argument("--stage", default="prod")
    promote.add_argument("--version", help="semantic version, e.g. v1.2.0 (default: bump)")
    promote.add_argument("--bump", choices=["major", "minor", "patch"], default="minor")
    promote.add_argument("--reason", default="", help="recorded in the ledger")
    promote.set_defaults(func=_promote)

    rollback = subparsers.add_parser(
        "rollback", help="re-point a stage to the last signed GO promotion before the current one"
    )
    _common(rollback)
    rollback.add_argument("--artifact", default="model")
    rollback.add_argument("--stage", default="prod")
    rollback.add_argument("--reason", default="", help="recorded in the ledger")
    rollback.set_defaults(func=_rollback)

    ledger = subparsers.add_parser(
        "ledger", help="verify the decision ledger, or show what was in each stage at a time"
    )
    _common(ledger)
    ledger.add_argument("action", choices=["verify", "at"])
    ledger.add_argument("time", nargs="?", help="ISO 8601 time for 'at' (default: now)")
    ledger.set_defaults(func=_ledger)
