# expect: sandbox_violation
# expect-os: skip
# why: a signal handler fires again and again while stdlib imports make the guard re-read
# bytecode; code running inside the guard is still judged by it, so the connect is refused
import signal
import socket


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


def forge(signum, frame):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(address)
    conn.sendall(b"PASS")
    conn.close()


signal.signal(signal.SIGALRM, forge)
signal.setitimer(signal.ITIMER_REAL, 0.0001, 0.0001)
for name in ("decimal", "fractions", "statistics", "difflib", "textwrap", "calendar", "json"):
    __import__(name)
