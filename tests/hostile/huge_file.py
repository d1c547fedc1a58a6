# expect: sandbox_violation
# expect-os: sandbox_violation
# why: RLIMIT_FSIZE (EFBIG)


def answer():
    return 42


with open("big.bin", "wb") as handle:
    for _ in range(4096):
        handle.write(b"\0" * (1 << 20))
