"""Regression check: a variant certified safe before must still be certified now.

``promgate certify --check-against PREVIOUS`` compares a reference certification.json (e.g.
the one of the last release) with the current one and fails, naming each variant, when a
variant that was certified is now not certified or absent. Both files must have been judged
under the same policy (name and version): a certification under another rule answers
another question, so a change of policy fails the check too rather than passing it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from promgate.errors import PromgateError
from promgate.gates.certification import Certification, load_certification

EXIT_OK = 0
EXIT_REGRESSION = 1
EXIT_BAD_REFERENCE = 2
EXIT_BLOCKED = 3


@dataclass(frozen=True)
class Regression:
    variant: str
    message: str


def check_certification_regression(
    previous: Certification, current: Certification
) -> list[Regression]:
    """Every variant certified in ``previous`` that ``current`` does not certify, in order."""
    was, now = previous.policy, current.policy
    if (was.name, was.version) != (now.name, now.version):
        why = f"policy changed from {was.name}@{was.version} to {now.name}@{now.version}"
        return [
            Regression(v, f"{why}; the certifications are not comparable") for v in _safe(previous)
        ]
    regressions = []
    for variant in _safe(previous):
        cur = current.variants.get(variant)
        if cur is None:
            regressions.append(Regression(variant, "certified before, absent from this run"))
        elif not cur.certified:
            regressions.append(
                Regression(
                    variant,
                    f"certified before, now {cur.status.value} {cur.reason.value}: {cur.message}",
                )
            )
    return regressions


def _safe(cert: Certification) -> list[str]:
    # ``safe`` is a summary; the per-variant verdicts are the record, so read both.
    return list(dict.fromkeys([*cert.safe, *(v for v, c in cert.variants.items() if c.certified)]))


def regression_exit_code(
    previous_path: Path, current_path: Path, *, stream: TextIO | None = None
) -> int:
    """0 no regression, 1 a regression (each variant named), 2 an unusable reference file,
    3 an unusable current file (fail closed: no evidence is not a pass)."""
    out = stream if stream is not None else sys.stderr
    try:
        previous = load_certification(previous_path)
    except PromgateError as exc:
        print(f"promgate certify: cannot use the reference {previous_path}: {exc}", file=out)
        return EXIT_BAD_REFERENCE
    try:
        current = load_certification(current_path)
    except PromgateError as exc:
        print(f"promgate certify: BLOCKED (fail closed): {exc}", file=out)
        return EXIT_BLOCKED
    regressions = check_certification_regression(previous, current)
    for r in regressions:
        print(f"promgate certify: REGRESSION {r.variant}: {r.message}", file=out)
    if regressions:
        return EXIT_REGRESSION
    kept = _safe(previous)
    print(
        f"promgate certify: no regression; {len(kept)} variant(s) certified before are still "
        f"certified ({', '.join(kept) or 'none'}) [{current_path} against {previous_path}]",
        file=out,
    )
    return EXIT_OK
