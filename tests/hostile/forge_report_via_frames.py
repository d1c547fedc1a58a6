# expect: sandbox_violation
# expect-os: skip
# why: calling the driver's report() from program code fails the guard's frame check


def answer():
    return 41


def find_report():
    try:
        raise RuntimeError
    except RuntimeError as exc:
        frame = exc.__traceback__.tb_frame
    while frame is not None:
        if "report" in frame.f_locals:
            return frame.f_locals["report"]
        frame = frame.f_back
    raise LookupError("no report")


find_report()()
