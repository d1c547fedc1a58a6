# expect: sandbox_violation
# expect-os: crash
# why: the guard flags the write; without it the read-only mount refuses it (EROFS)


def answer():
    return 42


with open("/usr/promgate-was-here", "w") as handle:
    handle.write("x")
