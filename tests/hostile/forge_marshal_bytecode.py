# expect: sandbox_violation
# expect-os: skip
# why: hand-made bytecode is not memory-safe; marshal.loads outside stdlib imports is denied
import marshal


def answer():
    return 41


code = marshal.loads(marshal.dumps(compile("x = 1", "<crafted>", "exec")))
exec(code)
