# expect: sandbox_violation
# expect-os: crash
# why: os.kill is denied; without the guard kill(-1) finds nothing it may signal (ESRCH):
# the supervisor is init of the run's own pid namespace and runs as another uid
import os
import signal


def answer():
    return 41


os.kill(-1, signal.SIGKILL)
