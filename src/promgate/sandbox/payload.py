"""The code that runs inside the sandbox, compiled once per process instead of once per run.

The driver, the guard and the zygote are copied into a private directory with their bytecode
(checked against nothing: the directory is ours and mounted read-only), plus ``boot.py``, the
script the interpreter starts, which imports the driver from there.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import py_compile
import shutil
import tempfile
import threading
from pathlib import Path

_HERE = Path(__file__).resolve().parent
SOURCES = (_HERE / "_driver.py", _HERE / "_guard.py", _HERE / "_zygote.py")
BOOT = """import sys
sys.path.insert(0, sys.argv[0].rpartition("/")[0])
import _driver
del sys.path[0]
_driver.main(sys.argv[1:])
"""


_lock = threading.Lock()
_built: list[Path] = []


def payload_dir() -> Path:
    """The directory, built on first use (pool workers may ask at the same moment)."""
    with _lock:
        if not _built:
            _built.append(_build())
        return _built[0]


def _build() -> Path:
    root = Path(tempfile.mkdtemp(prefix="promgate-payload-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for source in SOURCES:
        target = root / source.name
        shutil.copyfile(source, target)
        cached = Path(importlib.util.cache_from_source(str(target)))
        py_compile.compile(
            str(target),
            cfile=str(cached),
            doraise=True,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    (root / "boot.py").write_text(BOOT, encoding="utf-8")
    for path in [root, *root.rglob("*")]:
        os.chmod(path, 0o755 if path.is_dir() else 0o644)  # readable by the run's uid
    return root
