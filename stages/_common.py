"""Shared by the stage scripts: where params live and how errors are reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from promgate.errors import PromgateError, report

ROOT = Path(__file__).resolve().parent.parent


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage; a PromgateError becomes one line on stderr and its exit code."""
    try:
        main()
    except PromgateError as exc:
        raise SystemExit(report(exc)) from None
