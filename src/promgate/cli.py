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
from promgate.models.serve import register as register_serve
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


def _certify(args: argparse.Namespace) -> int:
    """Certify every variant across seeds (params.yaml, results/), or check for regressions."""
    root = Path(args.root)
    if args.check_against:
        from promgate.gates.certification_check import regression_exit_code

        return regression_exit_code(Path(args.check_against), Path(args.current))
    from promgate.config import load_params
    from promgate.errors import ConfigError
    from promgate.pipeline import CERTIFICATION_JSON, run_certification

    cert = run_certification(load_params(root / "params.yaml"), root)
    if cert is None:
        raise ConfigError("params name no certification policy", field="certification")
    for name, v in cert.variants.items():
        print(f"{name}: {'certified' if v.certified else 'not certified'} ({v.message})")
    print(f"wrote {root / CERTIFICATION_JSON}")
    return 0


def _import_lm_eval(args: argparse.Namespace) -> int:
    from promgate.importers.lm_eval import default_model_id, import_lm_eval, write_import

    imported = import_lm_eval(Path(args.dir), mirror=Path(args.mirror) if args.mirror else None)
    model_id = args.model_id or default_model_id(imported)
    summary = write_import(imported, Path(args.out), model_id)
    for task in imported.tasks:
        note = f", {task.different_requests} sent other requests" if task.different_requests else ""
        print(f"{task.task} -> {task.benchmark}: n={task.n} acc={task.acc:.4f}{note}")
    for benchmark, entry in summary["benchmarks"].items():
        print(f"wrote {Path(args.out) / benchmark}.jsonl: n={entry['n']} ({model_id})")
    return 0


def _import_inspect(args: argparse.Namespace) -> int:
    from promgate.importers.inspect_log import default_model_id, read_inspect_log, write_import

    imported = read_inspect_log(Path(args.log), scorer=args.scorer)
    model_id = args.model_id or default_model_id(imported)
    summary = write_import(imported, Path(args.out), model_id, args.benchmark)
    print(
        f"{imported.task} ({imported.scorer}, {imported.epochs} epochs) -> {summary['benchmark']}: "
        f"n={summary['n']} accuracy={summary['accuracy']:.4f} ({model_id})"
    )
    return 0


def _import_swebench(args: argparse.Namespace) -> int:
    from promgate.importers.swebench import read_report, write_import

    summary = write_import(read_report(Path(args.report)), Path(args.out), args.model_id)
    print(
        f"swebench_lite: {summary['resolved']}/{summary['n']} resolved "
        f"({summary['outcomes']}) -> {Path(args.out) / 'swebench_lite.jsonl'}"
    )
    return 0


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

    certify = sub.add_parser(
        "certify",
        help="certify each variant across seeds, or check a certification for regressions",
        description="Without --check-against: apply params.yaml's certification policy to "
        "results/ and write reports/certification.json (exit 0 whatever it says). With it: "
        "exit 1 naming each variant certified in FILE that --current no longer certifies "
        "(or lacks, or judged under another policy); 3 if --current is missing or malformed.",
    )
    certify.add_argument("--root", default=".", help="repository root (params.yaml, results/)")
    certify.add_argument(
        "--check-against", metavar="FILE", help="a reference certification.json (e.g. a release's)"
    )
    certify.add_argument(
        "--current",
        metavar="FILE",
        default="reports/certification.json",
        help="the certification to check (default: reports/certification.json)",
    )
    certify.set_defaults(func=_certify)

    importer = sub.add_parser(
        "import", help="turn another harness's per-item output into promgate results"
    )
    imports = importer.add_subparsers(dest="source", required=True, metavar="SOURCE")
    lm_eval = imports.add_parser(
        "lm-eval",
        help="lm-eval-harness output (run with --log_samples)",
        description="Read results_*.json and samples_<task>_*.jsonl under DIR (arc_easy, "
        "arc_challenge, piqa, winogrande, mmlu_<subject> and bench/lmeval's promgate_* tasks), "
        "map each doc to promgate's item id and write <benchmark>.jsonl to --out.",
    )
    lm_eval.add_argument("dir", metavar="DIR", help="lm-eval's --output_path (searched deeply)")
    lm_eval.add_argument("--out", metavar="RESULTS_DIR", required=True)
    lm_eval.add_argument("--model-id", help="default: the last part of lm-eval's model name")
    lm_eval.add_argument(
        "--mirror", metavar="DIR", help="benchmark mirror; default: $PROMGATE_MIRROR, else download"
    )
    lm_eval.set_defaults(func=_import_lm_eval)
    inspect_log = imports.add_parser(
        "inspect",
        help="an inspect_ai log (.eval, or the older .json)",
        description="Read a finished inspect_ai log and write <benchmark>.jsonl to --out: one "
        "result per sample id (id <benchmark>/<sample id>), its score the mean over epochs.",
    )
    inspect_log.add_argument("log", metavar="LOG")
    inspect_log.add_argument("--out", metavar="RESULTS_DIR", required=True)
    inspect_log.add_argument("--model-id", help="default: the last part of the log's model")
    inspect_log.add_argument("--benchmark", help="default: the task's name")
    inspect_log.add_argument("--scorer", help="which scorer's values (needed if there are several)")
    inspect_log.set_defaults(func=_import_inspect)
    swebench = imports.add_parser(
        "swebench",
        help="a SWE-bench harness report (resolved / unresolved ids) on SWE-bench Lite",
        description="Read the harness's <model>.<run_id>.json and write swebench_lite.jsonl to "
        "--out: each of the 300 Lite instances resolved or not; error, empty-patch and "
        "unsubmitted instances count as unresolved and say so.",
    )
    swebench.add_argument("report", metavar="REPORT")
    swebench.add_argument("--out", metavar="RESULTS_DIR", required=True)
    swebench.add_argument("--model-id", required=True)
    swebench.set_defaults(func=_import_swebench)
    register_supply(sub)
    register_serve(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except PromgateError as exc:
        return report(exc)


if __name__ == "__main__":
    sys.exit(main())
