# expect: crash
# expect-os: crash
# why: the run has no capabilities left: setuid(0) fails
import os


def answer():
    return 42


os.setuid(0)
