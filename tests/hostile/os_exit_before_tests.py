# expect: crash
# expect-os: crash
# why: os._exit(0) skips every handler; still no pass without the report
import os


def answer():
    return 42


os._exit(0)
