# expect: crash
# expect-os: crash
# why: with the recursion limit lifted, recursion through a C builtin overflows the C stack:
# killed by SIGSEGV
import sys

sys.setrecursionlimit(10**8)


def deeper(depth):
    return list(map(deeper, [depth + 1]))


def answer():
    deeper(0)
    return 42
