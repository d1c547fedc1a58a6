# expect: sandbox_violation
# expect-os: skip
# why: building or swapping code objects is denied


def answer():
    return 41


def right():
    return 42


answer.__code__ = right.__code__.replace(co_name="answer")
