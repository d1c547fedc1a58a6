"""The audit-hook policy, checked in this process with ``os._exit`` replaced by an exception.

The hook is built but never installed here: it is called directly with the events CPython
would raise. End-to-end behaviour inside the sandbox is in test_sandbox_hostile.py.
"""

from __future__ import annotations

import dis
import os
import sys
from types import CodeType

import pytest

from promgate.sandbox import _guard

ADDRESS = "\0promgate-test"
STDLIB = sys._stdlib_dir
DYNLOAD = STDLIB + "/lib-dynload"


class Violation(Exception):
    pass


def _raise(code: int) -> None:
    raise Violation(code)


@pytest.fixture
def build(monkeypatch):
    """Build a hook whose violations raise instead of ending the process."""
    monkeypatch.setattr(os, "_exit", _raise)
    notes = os.open(os.devnull, os.O_WRONLY)

    def make(run_frame=None, done=None, report_code=None, deny_spawn=False):
        return _guard.make_hook(
            run_frame=run_frame or sys._getframe(),
            done=done or object(),
            report_code=report_code or _raise.__code__,
            report_address=ADDRESS,
            notes_fd=notes,
            writable=("/work", "/tmp"),
            readable=("/usr", STDLIB.rsplit("/lib/", 1)[0]),
            stdlib_dirs=(STDLIB,),
            dynload_dir=DYNLOAD,
            deny_spawn=deny_spawn,
        )

    yield make
    os.close(notes)


def nested_code(code: CodeType):
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield const
            yield from nested_code(const)


def test_hook_does_no_global_or_builtin_lookup():
    """The program can rebind builtins and this module's globals; the hook must not care."""
    codes = list(nested_code(_guard.make_hook.__code__))
    assert codes, "make_hook builds its helpers as closures"
    for code in codes:
        lookups = [
            ins.argval
            for ins in dis.get_instructions(code)
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "STORE_GLOBAL", "DELETE_GLOBAL")
        ]
        assert lookups == [], f"{code.co_name} looks up {lookups}"


@pytest.mark.parametrize(
    "event",
    [
        "os.fork",
        "os.system",
        "os.exec",
        "subprocess.Popen",
        "os.kill",
        "os.killpg",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "code.__new__",
        "marshal.load",
        "socket.getaddrinfo",
        "socket.bind",
        "ctypes.dlopen",
        "cpython.PyInterpreterState_New",
        "os.symlink",
    ],
)
def test_denied_events(build, event):
    with pytest.raises(Violation):
        build()(event, ())


@pytest.mark.parametrize(
    ("path", "mode", "allowed"),
    [
        ("/work/out.txt", "w", True),
        ("/tmp/x", "a", True),
        ("/dev/null", "w", True),
        ("/usr/evil", "w", False),
        ("/work/../usr/evil", "w", False),
        ("/etc/passwd", "r", False),
        ("/proc/1/environ", "r", False),
        ("/usr/share/dict/words", "r", True),
    ],
)
def test_open_paths(build, path, mode, allowed):
    hook = build()
    if allowed:
        hook("open", (path, mode, 0))
    else:
        with pytest.raises(Violation):
            hook("open", (path, mode, 0))


def test_open_flags_count_as_writes(build):
    with pytest.raises(Violation):
        build()("open", ("/usr/x", None, os.O_WRONLY | os.O_CREAT))


def test_str_subclass_paths_cannot_steer_the_check(build):
    class Sneaky(str):
        def startswith(self, *args):
            return True

    with pytest.raises(Violation):
        build()("open", ("/work/x.pyc", "r", 0))  # bytecode outside the stdlib
    build()("open", (Sneaky("/etc/passwd"), "r", 0))  # not an exact str: left to the mounts


@pytest.mark.parametrize(
    ("name", "origin", "allowed"),
    [
        ("math", None, True),
        ("math", DYNLOAD + "/math.cpython-311-x86_64-linux-gnu.so", True),
        ("evil", "/work/evil.so", False),
        ("evil", DYNLOAD + "/../../../../work/evil.so", False),
        ("_ctypes", None, False),
        ("pkg._ctypes", None, False),
        ("_testcapi", None, False),
        ("_xxsubinterpreters", None, False),
    ],
)
def test_imports(build, name, origin, allowed):
    hook = build()
    args = (name, origin, None, None, None)
    if allowed:
        hook("import", args)
    else:
        with pytest.raises(Violation):
            hook("import", args)


def test_spawn_module_denied_only_where_processes_are_unbounded(build):
    build()("import", ("_posixsubprocess", None, None, None, None))
    with pytest.raises(Violation):
        build(deny_spawn=True)("import", ("_posixsubprocess", None, None, None, None))


def test_marshal_loads_only_for_the_stdlib_pyc_just_opened(build):
    import importlib.util

    pyc = importlib.util.cache_from_source(os.path.join(STDLIB, "textwrap.py"))
    if not os.path.exists(pyc):
        pytest.skip("no compiled textwrap in this interpreter")
    with open(pyc, "rb") as handle:
        body = handle.read()[16:]
    hook = build()
    with pytest.raises(Violation):
        hook("marshal.loads", (body,))  # nothing opened
    hook("open", (pyc, "r", 0))
    hook("marshal.loads", (memoryview(body),))
    hook("open", (pyc, "r", 0))
    with pytest.raises(Violation):
        hook("marshal.loads", (body + b"\0",))


def test_code_running_inside_the_hooks_own_read_is_still_checked(build, monkeypatch):
    """A signal handler or finaliser may run while the hook re-reads a .pyc: no free pass."""
    import importlib.util

    pyc = importlib.util.cache_from_source(os.path.join(STDLIB, "textwrap.py"))
    if not os.path.exists(pyc):
        pytest.skip("no compiled textwrap in this interpreter")
    with open(pyc, "rb") as handle:
        body = handle.read()[16:]
    hooks, caught = [], []
    real_read = os.read

    def read_with_interloper(fd, size):
        try:
            hooks[0]("os.fork", ())  # what a handler running mid-read would try
        except Violation:
            caught.append("os.fork")
        return real_read(fd, size)

    monkeypatch.setattr(os, "read", read_with_interloper)
    hooks.append(build())
    hooks[0]("open", (pyc, "r", 0))
    hooks[0]("marshal.loads", (body,))  # the genuine load is allowed...
    assert caught  # ...and the interloper was judged, not waved through


def test_setting_code_is_denied_but_class_attributes_are_not(build):
    hook = build()

    class Thing:
        pass

    hook("object.__setattr__", (Thing, "x", 1))
    with pytest.raises(Violation):
        hook("object.__setattr__", (_raise, "__code__", _raise.__code__))


def test_report_connect_is_gated_by_frame_stage_and_address(build):
    hooks = []

    def report(address=ADDRESS):
        hooks[0]("socket.connect", (None, address))

    def forger():
        report()

    def run():
        done = object()
        stage = None
        hooks.append(build(sys._getframe(), done, report.__code__))
        with pytest.raises(Violation):
            report()  # tests not finished
        stage = done  # noqa: F841 (read by the hook through this frame)
        report()  # the genuine call: allowed
        with pytest.raises(Violation):
            forger()  # report's caller is not the run frame
        with pytest.raises(Violation):
            report("\0elsewhere")
        with pytest.raises(Violation):
            hooks[0]("socket.connect", (None, ADDRESS))  # not from report's code

    run()


def test_audit_calls_with_fake_event_objects_are_ignored(build):
    class Event(str):
        pass

    build()(Event("os.fork"), ())
