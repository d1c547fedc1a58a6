# expect: timeout
# expect-os: timeout
# why: sleeping burns no CPU; the wall clock kills the whole tree with SIGKILL
import signal
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)


def answer():
    time.sleep(3600)
    return 42
