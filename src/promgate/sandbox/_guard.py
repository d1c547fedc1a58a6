"""The audit-hook policy that runs inside the sandbox, in the process that runs untrusted code.

Runs under ``python -I -S`` inside the sandbox, so it imports nothing from promgate.

The hook has two jobs:

* **Gate the pass report.** The only way to report a pass is an ``AF_UNIX`` connect to the
  supervisor's abstract socket. The hook allows that connect only when the calling frame runs
  the driver's ``report`` code, its caller is the driver's own run frame (compared by identity,
  recorded before any untrusted code ran), and that frame's fast local ``stage`` holds the
  driver's private ``done`` object, which the driver assigns only after the tests returned.
  Untrusted Python code cannot write another frame's fast locals (that needs a trace
  function, which is denied here) and cannot make a frame whose caller is the run frame run
  the report code before ``stage`` is set; see ``_driver.py`` for the whole threat model.
* **Classify escapes.** Process creation, signals to other processes, network use, native
  code (ctypes, extension modules from outside the interpreter's own ``lib-dynload``), code
  object construction, bytecode that did not come from the standard library, tracing,
  heap introspection, writes outside the writable directories and reads outside the
  readable ones end the process at once with :data:`VIOLATION_EXIT`. Raising would let the
  program catch the error and carry on. Under bubblewrap the mounts enforce the same file
  rules; on a host without it, these checks are what keeps Python-level reads and writes in.

The hook is a closure: every name it uses is bound when it is built, before untrusted code
runs. It does no global or builtin lookup (the program may rebind builtins or this module's
globals; a test checks the bytecode), calls only C functions and methods of exact built-in
types, and checks the exact type of any argument it inspects, so that an object with a
custom ``__eq__`` or ``startswith`` cannot steer it.
"""

from __future__ import annotations

import _thread
import os
import sys
from types import CodeType, FrameType, FunctionType

VIOLATION_EXIT = 14

# Events that end the run as a sandbox violation whatever their arguments.
DENIED_EVENTS = frozenset(
    {
        # processes and signals
        "os.system",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "os.forkpty",
        "subprocess.Popen",
        "pty.spawn",
        "os.kill",
        "os.killpg",
        "signal.pthread_kill",
        "resource.prlimit",
        "webbrowser.open",
        # network (beyond sockets themselves, which are handled below)
        "socket.bind",
        "socket.sendto",
        "socket.sendmsg",
        "socket.getaddrinfo",
        "socket.gethostbyname",
        "socket.gethostbyaddr",
        "socket.getnameinfo",
        "socket.sethostname",
        "urllib.Request",
        "http.client.connect",
        "ftplib.connect",
        "smtplib.connect",
        "poplib.connect",
        "imaplib.open",
        "nntplib.connect",
        "telnetlib.Telnet.open",
        # native code, interpreter internals, code objects, tracing
        "ctypes.dlopen",
        "ctypes.dlsym",
        "ctypes.dlsym/handle",
        "ctypes.addressof",
        "ctypes.cdata",
        "ctypes.cdata/buffer",
        "ctypes.call_function",
        "ctypes.string_at",
        "ctypes.wstring_at",
        "ctypes.PyObj_FromPtr",
        "sqlite3.enable_load_extension",
        "sqlite3.load_extension",
        "cpython.PyInterpreterState_New",
        "code.__new__",
        "marshal.load",
        "sys.settrace",
        "sys.setprofile",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        # filesystem operations a benchmark program never needs
        "os.symlink",
        "os.link",
        "os.chown",
        "os.chflags",
        "os.lchflags",
        "os.setxattr",
        "os.removexattr",
    }
)

# Native modules that would hand the program raw memory or a second interpreter.
DENIED_MODULES = ("_ctypes", "ctypes", "_xxsubinterpreters", "_xxinterpchannels", "_interpreters")
DENIED_MODULE_PREFIXES = ("_test", "_xx", "xx")
SPAWN_MODULES = ("_posixsubprocess",)

# Events whose path arguments must stay inside the writable directories.
_PATH_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.rename": (0, 1),
    "os.truncate": (0,),
    "os.utime": (0,),
    "os.chmod": (0,),
    "os.mkdir": (0,),
    "os.mkfifo": (0,),
    "os.mknod": (0,),
    "shutil.rmtree": (0,),
    "shutil.move": (0, 1),
    "shutil.copyfile": (1,),
    "shutil.copytree": (1,),
    "sqlite3.connect": (0,),
}

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install(**policy) -> None:
    """Add the hook (arguments as :func:`make_hook`); nothing in Python can remove or reach it."""
    sys.addaudithook(make_hook(**policy))


def make_hook(
    *,
    run_frame: FrameType,
    done: object,
    report_code: CodeType,
    report_address: str,
    notes_fd: int,
    writable: tuple[str, ...],
    readable: tuple[str, ...],
    stdlib_dirs: tuple[str, ...],
    dynload_dir: str,
    deny_spawn: bool,
):
    """The audit hook. ``readable`` and ``writable`` are directory roots; ``deny_spawn`` also
    denies ``_posixsubprocess`` (which spawns without an audit event) for hosts where the
    process-count limit does not bind."""
    # Everything the hook touches is bound here, before untrusted code runs.
    _type = type
    _str = str
    _bytes = bytes
    _int = int
    _memoryview = memoryview
    _tuple = tuple
    _len = len
    _BaseException = BaseException
    _FunctionType = FunctionType
    _getframe = sys._getframe
    _ident = _thread.get_ident
    _getcwd = os.getcwd
    _open = os.open
    _read = os.read
    _close = os.close
    _write = os.write
    _exit = os._exit
    _O_RDONLY = os.O_RDONLY
    _write_flags = _WRITE_FLAGS
    _denied_events = DENIED_EVENTS
    _denied_modules = frozenset(DENIED_MODULES + (SPAWN_MODULES if deny_spawn else ()))
    _readable = readable + writable
    _denied_prefixes = DENIED_MODULE_PREFIXES
    _path_events = dict(_PATH_EVENTS)
    _address = report_address
    _exit_code = VIOLATION_EXIT
    pending_pyc: dict[int, str] = {}  # thread id -> last standard-library .pyc it opened
    # The path object the hook itself is opening. Only that one "open" event is skipped: a
    # signal handler or finaliser that runs while the hook reads is checked like any code.
    own_open: list[object] = [None]

    def violation(what):
        # ``what`` is always a str built here from exact-typed values.
        # Plain statements only in the hook: contextlib, any() and the like are global lookups.
        try:  # noqa: SIM105
            _write(notes_fd, ("sandbox_violation\t" + what + "\n").encode("utf-8", "replace"))
        except _BaseException:
            pass
        _exit(_exit_code)

    def as_text(value):
        """The path as an exact str, or None when it is not a plain str/bytes path."""
        kind = _type(value)
        if kind is _str:
            return value
        if kind is _bytes:
            return value.decode("utf-8", "surrogateescape")
        return None

    def normalise(path):
        if not path.startswith("/"):
            path = _getcwd() + "/" + path
        parts = []
        for segment in path.split("/"):
            if segment == "" or segment == ".":
                continue
            if segment == "..":
                if parts:
                    parts.pop()
                continue
            parts.append(segment)
        return "/" + "/".join(parts)

    def inside(path, roots):
        for root in roots:  # noqa: SIM110 (any() would be a builtin lookup)
            if path == root or path.startswith(root + "/"):
                return True
        return False

    def check_write_path(event, value):
        text = as_text(value)
        if text is None:
            return  # an fd or an object we cannot read safely: the read-only mounts decide
        path = normalise(text)
        if path == "/dev/null" or inside(path, writable):
            return
        violation(event + ": " + path[:200] + " is outside the writable directories")

    def read_file(path):
        own_open[0] = path
        try:
            fd = _open(path, _O_RDONLY)
            try:
                chunks = []
                while True:
                    block = _read(fd, 1 << 16)
                    if not block:
                        break
                    chunks.append(block)
            finally:
                _close(fd)
        finally:
            own_open[0] = None
        return b"".join(chunks)

    def on_open(args):
        path_value, mode, flags = args[0], args[1], args[2]
        text = as_text(path_value)
        if text is None:
            return
        path = normalise(text)
        writing = False
        if _type(flags) is _int and flags & _write_flags:
            writing = True
        if _type(mode) is _str and ("w" in mode or "a" in mode or "x" in mode or "+" in mode):
            writing = True
        if writing:
            check_write_path("open", path)
        elif path != "/dev/null" and not inside(path, _readable):
            violation("open: reading " + path[:200] + " outside the readable directories")
        if path.startswith("/proc/") and (path.endswith("/mem") or "/fd/" in path):
            violation("open: " + path[:200])
        if path.endswith(".pyc"):
            if ".." in text.split("/") or not inside(path, stdlib_dirs):
                violation("open: bytecode outside the standard library: " + path[:200])
            pending_pyc[_ident()] = path

    def on_marshal_loads(args):
        data = args[0]
        kind = _type(data)
        if kind is _memoryview:
            data = _bytes(data)
        elif kind is not _bytes:
            violation("marshal.loads of a " + kind.__name__)
        path = pending_pyc.pop(_ident(), None)
        if path is None:
            violation("marshal.loads outside the import of a standard-library module")
        # The import system passes the .pyc body after its 16-byte header.
        if read_file(path)[16:] != data:
            violation("marshal.loads of bytes that are not " + path[:200])

    def on_import(args):
        name = args[0]
        if _type(name) is not _str:
            violation("import of a module whose name is not a str")
        last = name.rpartition(".")[2]
        if last in _denied_modules or last.startswith(_denied_prefixes):
            violation("import " + name[:100])
        origin = args[1] if _type(args) is _tuple and _len(args) > 1 else None
        if origin is None:
            return
        if _type(origin) is not _str:
            violation("import of " + name[:100] + " from a non-str path")
        # Extension modules: only the interpreter's own, named by a plain path.
        if ".." in origin.split("/") or not inside(normalise(origin), (dynload_dir,)):
            violation("import of native code from " + origin[:200])

    def on_connect(args):
        frame = _getframe(2)  # 0: this function, 1: hook, 2: the caller of connect
        if (
            frame.f_code is report_code
            and frame.f_back is run_frame
            and run_frame.f_locals.get("stage") is done
            and _type(args[1]) is _str
            and args[1] == _address
        ):
            return
        violation("network: socket.connect")

    def on_listdir(event, args):
        text = as_text(args[0]) if _len(args) else None
        if text is not None and not inside(normalise(text), _readable):
            violation(event + ": " + text[:200] + " is outside the readable directories")

    def on_setattr(args):
        if _type(args[0]) is _FunctionType and _type(args[1]) is _str and args[1] == "__code__":
            violation("setting a function's __code__")

    def hook(event, args):
        if _type(event) is not _str:
            return  # a str subclass can only come from sys.audit(), which performs nothing
        if event == "open" and own_open[0] is not None and args[0] is own_open[0]:
            return
        if event in _denied_events:
            violation(event)
        elif event == "open":
            on_open(args)
        elif event == "import":
            on_import(args)
        elif event == "marshal.loads":
            on_marshal_loads(args)
        elif event == "socket.connect":
            on_connect(args)
        elif event == "object.__setattr__":
            on_setattr(args)
        elif event == "os.listdir" or event == "os.scandir":
            on_listdir(event, args)
        else:
            positions = _path_events.get(event)
            if positions is not None:
                for position in positions:
                    if position < _len(args):
                        check_write_path(event, args[position])

    return hook
