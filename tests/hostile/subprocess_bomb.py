# expect: sandbox_violation
# expect-os: sandbox_violation
# why: subprocess.Popen is denied; without the guard the process limit stops it
import subprocess
import sys


def answer():
    return 42


children = []
while True:
    children.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
