# expect: sandbox_violation
# expect-os: crash
# why: ctypes is denied; without the guard libc's _exit(0) is still an exit before the tests
import ctypes


def answer():
    return 42


libc = ctypes.CDLL(None)
libc.kill(libc.getppid(), 9)
libc._exit(0)
