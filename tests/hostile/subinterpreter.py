# expect: sandbox_violation
# expect-os: skip
# why: a subinterpreter would run without the audit hook
import _xxsubinterpreters as interpreters


def answer():
    return 41


interpreters.run_string(interpreters.create(), "print('unhooked')")
