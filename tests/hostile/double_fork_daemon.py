# expect: sandbox_violation
# expect-os: crash
# why: fork is denied; without the guard the daemon dies with the sandbox's pid namespace
# before its delayed write, and the write could not reach the host file anyway
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1.5)
        with open("__CANARY__", "w") as handle:
            handle.write("daemon was here")
        os._exit(0)
    os._exit(0)
os.wait()
