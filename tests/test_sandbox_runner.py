from promgate.sandbox.limits import Limits
from promgate.sandbox.runner import run_python
from promgate.scoring.code import pass_at_k

FAST = Limits(wall_timeout_s=3.0, cpu_time_s=2)


def test_passing_program():
    assert run_python("assert 1 + 1 == 2", FAST).verdict == "passed"


def test_failing_assert():
    result = run_python("assert 1 + 1 == 3", FAST)
    assert result.verdict == "failed" and "AssertionError" in result.stderr


def test_early_exit_zero_is_not_a_pass():
    # The tests after the exit never ran: exit status 0 alone must not count.
    assert run_python("import sys\nsys.exit(0)\nassert False", FAST).verdict == "no_sentinel"
    assert run_python("import os\nos._exit(0)", FAST).verdict == "no_sentinel"


def test_infinite_loop_times_out():
    assert run_python("while True:\n    pass", FAST).verdict == "timeout"


def test_sleeping_program_is_killed_by_wall_clock():
    result = run_python("import time\ntime.sleep(60)", Limits(wall_timeout_s=1.0, cpu_time_s=2))
    assert result.verdict == "timeout"


def test_environment_is_not_inherited(monkeypatch):
    monkeypatch.setenv("PROMGATE_TEST_SECRET", "hunter2")
    result = run_python("import os\nprint(os.environ.get('PROMGATE_TEST_SECRET'))", FAST)
    assert "hunter2" not in result.stdout


def test_memory_bomb_fails():
    result = run_python("x = bytearray(8 * 1024**3)", FAST)
    assert result.verdict == "memory"


def test_pass_at_k_matches_definition():
    from math import comb

    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 10) == 1.0
    assert abs(pass_at_k(10, 3, 1) - 0.3) < 1e-12
    assert abs(pass_at_k(20, 5, 10) - (1 - comb(15, 10) / comb(20, 10))) < 1e-12
