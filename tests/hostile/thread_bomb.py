# expect: sandbox_violation
# expect-os: sandbox_violation
# why: threads count against RLIMIT_NPROC for the run's own uid
import threading
import time


def answer():
    return 42


while True:
    threading.Thread(target=time.sleep, args=(60,)).start()
