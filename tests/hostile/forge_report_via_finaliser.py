# expect: sandbox_violation
# expect-os: skip
# why: a finaliser run by the collector inside the driver's frame still is not the driver
# reaching its report line: stage is not done
import gc


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


class Bomb:
    __del__ = staticmethod(find_report())


for _ in range(100):
    bomb = Bomb()
    bomb.cycle = bomb
del bomb
gc.set_threshold(1, 1, 1)
