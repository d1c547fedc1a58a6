# expect: sandbox_violation
# expect-os: crash
# why: os.killpg is denied; without the guard it can only kill itself
import os
import signal


def answer():
    return 42


os.killpg(0, signal.SIGKILL)
