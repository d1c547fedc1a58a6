# expect: sandbox_violation
# expect-os: crash
# why: os.kill is denied; without the guard the supervisor runs as another uid (EPERM)
import os
import signal


def answer():
    return 42


os.kill(os.getppid(), signal.SIGKILL)
