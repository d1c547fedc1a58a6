# expect: sandbox_violation
# expect-os: sandbox_violation
# why: a helper process (spawned without the audited APIs) connects to the supervisor; its
# pid is not the run's, so the supervisor records tampering
import _posixsubprocess
import os
import sys


def answer():
    return 41


def find_report():
    try:
        raise RuntimeError
    except RuntimeError as exc:
        frame = exc.__traceback__.tb_frame
    while frame is not None:
        if "report" in frame.f_locals:
            return frame.f_locals["report"]
        frame = frame.f_back
    raise LookupError("no report")


cells = [cell.cell_contents for cell in find_report().__closure__]
address = next(c for c in cells if isinstance(c, str) and c.startswith("\0"))
code = (
    f"import socket; s = socket.socket(socket.AF_UNIX); s.connect({address!r}); s.sendall(b'PASS')"
)
errread, errwrite = os.pipe()
pid = _posixsubprocess.fork_exec(
    [sys.executable, "-I", "-S", "-c", code],
    [sys.executable.encode()],
    True,
    (),
    None,
    None,
    -1,
    -1,
    -1,
    -1,
    -1,
    -1,
    errread,
    errwrite,
    True,
    False,
    -1,
    None,
    None,
    None,
    -1,
    None,
    False,
)
os.waitpid(pid, 0)
