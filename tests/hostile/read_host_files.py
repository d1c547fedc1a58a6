# expect: sandbox_violation
# expect-os: crash
# why: reads outside the readable directories are flagged; without the guard the host's
# files are simply not mounted


def answer():
    return 42


for path in ("__CANARY__", "/etc/shadow", "/root/.bash_history", "/work/main/pyproject.toml"):
    try:
        with open(path) as handle:
            print(handle.read()[:100])
    except OSError as exc:
        print("no", path, exc.errno)
with open("__CANARY__") as handle:
    raise SystemExit(handle.read())
