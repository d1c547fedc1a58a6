# expect: memory
# expect-os: memory
# why: many small allocations hit the same address-space limit


def answer():
    return 42


hoard = []
while True:
    hoard.append(bytearray(16 * 1024**2))
