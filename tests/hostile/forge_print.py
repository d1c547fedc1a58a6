# expect: crash
# expect-os: crash
# why: nothing printed counts; the pass is a separate, authenticated channel
import contextlib
import os
import sys


def answer():
    return 41


for line in ("PASS", "passed", "OK", '{"event":"pass"}', "promgate-done"):
    print(line)
    print(line, file=sys.stderr)
for fd in range(3, 64):
    with contextlib.suppress(OSError):
        os.write(fd, b'{"event":"pass"}\npassed\tforged\n')
sys.stdout.flush()
os._exit(0)
