# expect: sandbox_violation
# expect-os: wrong_answer
# why: reading /proc is outside the readable directories; without the guard there is no
# /proc inside at all, so other processes' environments are out of reach


def answer():
    for pid in range(1, 64):
        try:
            with open(f"/proc/{pid}/environ", "rb") as handle:
                if b"__SECRET_VALUE__" in handle.read():
                    return 42
        except OSError:
            pass
    return 0
