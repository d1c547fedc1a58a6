"""The ``promgate`` command.

Exit codes: 0 success / GO, 1 NO_GO, 2 bad input or configuration, 3 BLOCKED,
4 benchmark data unavailable, 5 training diverged.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from promgate import __version__
from promgate.errors import PromgateError


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


def _gate(args: argparse.Namespace) -> int:
    from promgate.config import load_params
    from promgate.pipeline import run_gate

    root = Path(args.root)
    report = run_gate(load_params(root / "params.yaml"), root)
    print(f"decision: {report.decision}  (reports/gate.json, promotion.md, promotion.html)")
    return 0


def _check(args: argparse.Namespace) -> int:
    from promgate.gates.outputs import check_exit_code

    return check_exit_code(Path(args.gate_json))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="promgate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"promgate {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    config = sub.add_parser("config", help="compose conf/ into params.yaml, or check they agree")
    config.add_argument("action", choices=["sync", "check"])
    config.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. profile=smoke")
    config.add_argument("--root", default=".")
    config.set_defaults(func=_config)

    gate = sub.add_parser("gate", help="apply the configured policy to the results on disk")
    gate.add_argument("--root", default=".")
    gate.set_defaults(func=_gate)

    check = sub.add_parser("check", help="exit 0 on GO, 1 on NO_GO, 3 on BLOCKED")
    check.add_argument("gate_json", nargs="?", default="reports/gate.json")
    check.set_defaults(func=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PromgateError as exc:
        print(f"promgate: {type(exc).__name__}: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
