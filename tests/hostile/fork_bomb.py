# expect: sandbox_violation
# expect-os: sandbox_violation
# why: os.fork is denied by the guard; without it RLIMIT_NPROC stops the bomb (EAGAIN)
import os


def answer():
    return 42


while True:
    os.fork()
