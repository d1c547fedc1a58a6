# expect: crash
# expect-os: crash
# why: RecursionError is an ordinary crash


def answer(depth=0):
    return answer(depth + 1)
