# expect: sandbox_violation
# expect-os: skip
# why: a trace function could jump over the failing assert; tracing is denied
import sys


def answer():
    return 41


def tracer(frame, event, arg):
    if frame.f_code.co_filename.endswith("tests.py") and event == "line":
        frame.f_lineno = frame.f_lineno + 1
    return tracer


sys.settrace(tracer)
sys._getframe().f_back.f_trace = tracer
