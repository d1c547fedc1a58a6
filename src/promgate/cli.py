"""The ``promgate`` command.

Exit codes: 0 success / GO, 1 NO_GO, 2 bad input or configuration, 3 BLOCKED,
4 benchmark data unavailable, 5 training diverged, 6 verification mismatch,
7 secret found in an artifact, 8 promotion refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from promgate import __version__
from promgate.errors import PromgateError, report
from promgate.supply.cli import register as register_supply


def _config(args: argparse.Namespace) -> int:
    from promgate.config import out_of_sync_keys, sync

    root = Path(args.root)
    if args.action == "sync":
        path = sync(root, args.overrides)
        print(f"wrote {path} from {root / 'conf'}")
        return 0
    keys = out_of_sync_keys(root, args.overrides)
    if keys:
        print(f"params.yaml is out of sync with conf/ at: {', '.join(keys)}", file=sys.stderr)
        print("run `promgate config sync` to rewrite it", file=sys.stderr)
        return 2
    print("params.yaml matches conf/")
    return 0


_GATE_DIRS = ("baseline", "candidate", "policy", "out")


def _gate(args: argparse.Namespace) -> int:
    """Record a decision; exits 0 whatever it is (``promgate check`` turns it into a code)."""
    from promgate.errors import ConfigError
    from promgate.pipeline import gate_from_dirs, run_gate

    root = Path(args.root)
    given = [name for name in _GATE_DIRS if getattr(args, name)]
    if not given and not args.benchmark and args.evidence_root is None:
        from promgate.config import load_params

        report = run_gate(load_params(root / "params.yaml"), root)
        print(f"decision: {report.decision}  (reports/gate.json, promotion.md, promotion.html)")
        return 0
    missing = [f"--{name}" for name in _GATE_DIRS if name not in given]
    if missing:
        raise ConfigError(f"promgate gate on folders also needs {', '.join(missing)}")
    report = gate_from_dirs(
        baseline=Path(args.baseline),
        candidates=[Path(c) for c in args.candidate],
        policy_ref=args.policy,
        out=Path(args.out),
        benchmarks=args.benchmark or None,
        root=root,
        evidence_root=Path(args.evidence_root) if args.evidence_root else None,
    )
    print(f"decision: {report.decision}  ({args.out} and its .md/.html beside it)")
    return 0


def _check(args: argparse.Namespace) -> int:
    from promgate.gates.outputs import check_exit_code

    return check_exit_code(Path(args.gate_json))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="promgate",
        description="Decide, with evidence, whether a language-model checkpoint may be promoted.",
    )
    parser.add_argument("--version", action="version", version=f"promgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="compose conf/ into params.yaml, or check they agree")
    config.add_argument("action", choices=["sync", "check"])
    config.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. profile=smoke")
    config.add_argument("--root", default=".")
    config.set_defaults(func=_config)

    gate = sub.add_parser(
        "gate",
        help="judge candidates against a baseline under a policy (no flags: from params.yaml)",
        description="With no folder flags, apply params.yaml's policy to the pipeline's "
        "results/ and write reports/. With them, judge the given folders of per-item results.",
    )
    gate.add_argument("--root", default=".", help="repository root (params.yaml, conf/policy)")
    gate.add_argument("--baseline", metavar="DIR", help="the baseline's <benchmark>.jsonl files")
    gate.add_argument(
        "--candidate", metavar="DIR", action="append", help="a candidate's folder (repeat)"
    )
    gate.add_argument(
        "--policy", metavar="NAME_OR_PATH", help="conf/policy/NAME.yaml, or a policy file"
    )
    gate.add_argument("--out", metavar="FILE", help="gate.json to write (.md/.html beside it)")
    gate.add_argument(
        "--benchmark",
        action="append",
        help="a main benchmark (repeat); default: every *.jsonl in the baseline folder",
    )
    gate.add_argument(
        "--evidence-root",
        metavar="DIR",
        help="where the policy's evidence files (metrics/...) lie; default: the working dir",
    )
    gate.set_defaults(func=_gate)

    check = sub.add_parser("check", help="exit 0 on GO, 1 on NO_GO, 3 on BLOCKED")
    check.add_argument("gate_json", nargs="?", default="reports/gate.json")
    check.set_defaults(func=_check)
    register_supply(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PromgateError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
