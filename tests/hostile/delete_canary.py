# expect: sandbox_violation
# expect-os: crash
# why: deleting outside the working directory; the host file is not visible inside
import os


def answer():
    return 42


os.remove("__CANARY__")
