# expect: sandbox_violation
# expect-os: sandbox_violation
# why: stdout is a file to the program: RLIMIT_FSIZE stops it (EFBIG)


def answer():
    return 42


line = "x" * (1 << 20)
while True:
    print(line)
