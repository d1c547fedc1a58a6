# expect: crash
# expect-os: crash
# why: hard limits cannot be raised by the program
import resource


def answer():
    return 42


resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
