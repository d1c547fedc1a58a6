# expect: timeout
# expect-os: timeout
# why: RLIMIT_CPU (SIGXCPU), independent of machine load


def answer():
    while True:
        pass
