# expect: sandbox_violation
# expect-os: sandbox_violation
# why: RLIMIT_NOFILE (EMFILE)
import os


def answer():
    return 42


handles = [os.open("/dev/null", os.O_RDONLY) for _ in range(100_000)]
