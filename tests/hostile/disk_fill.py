# expect: sandbox_violation
# expect-os: sandbox_violation
# why: many files each under the size limit fill the size-capped private tmpfs (ENOSPC)


def answer():
    return 42


for index in range(10_000):
    with open(f"fill-{index}.bin", "wb") as handle:
        handle.write(b"\0" * (4 << 20))
