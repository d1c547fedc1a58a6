# expect: sandbox_violation
# expect-os: crash
# why: a host path outside the working directory: flagged, and not even visible inside
import os


def answer():
    return 42


os.makedirs("__CANARY_DIR__", exist_ok=True)
with open("__CANARY_DIR__/planted.txt", "w") as handle:
    handle.write("x")
