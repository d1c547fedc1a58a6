# expect: memory
# expect-os: memory
# why: RLIMIT_AS turns one huge allocation into MemoryError


def answer():
    return 42


block = bytearray(64 * 1024**3)
