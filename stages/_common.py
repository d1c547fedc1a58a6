"""Shared by the stage scripts: where params live and how errors are reported."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from promgate.errors import PromgateError

ROOT = Path(__file__).resolve().parent.parent


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage; a PromgateError becomes one line on stderr and its exit code."""
    try:
        main()
    except PromgateError as exc:
        print(f"promgate: {type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
