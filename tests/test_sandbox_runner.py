"""The sandbox runner: verdicts, limits, isolation and the pass report, one behaviour each."""

from __future__ import annotations

import psutil
import pytest

from promgate.sandbox import Limits, run_many, run_program, select_backend
from promgate.sandbox.isolation import ENFORCED
from promgate.sandbox.sweep import processes_of

FAST = Limits(wall_timeout_s=4.0, cpu_time_s=2, address_space_mb=512)


def no_leftovers(result) -> bool:
    uid = result.sandbox.uid
    if uid is None:
        return not psutil.Process().children(recursive=True)
    return not processes_of((uid, uid + 1)) and not [
        p for p in psutil.process_iter(["uids"]) if p.info["uids"].real in (uid, uid + 1)
    ]


def test_passing_program():
    result = run_program("def add(a, b):\n    return a + b\n", "assert add(2, 3) == 5\n", FAST)
    assert result.verdict == "passed" and result.passed and result.error is None
    assert result.returncode == 0 and no_leftovers(result)


def test_failing_assert_is_a_wrong_answer():
    result = run_program("def add(a, b):\n    return a - b\n", "assert add(2, 3) == 5\n", FAST)
    assert result.verdict == "wrong_answer" and result.error == "wrong_answer"
    assert "AssertionError" in result.stderr


def test_exception_is_a_crash_and_syntax_error_too():
    assert run_program("def f(:\n", "assert True", FAST).verdict == "crash"
    result = run_program("def f():\n    return 1 / 0\n", "f()", FAST)
    assert result.verdict == "crash" and "ZeroDivisionError" in result.detail


def test_tests_run_after_the_program_in_its_namespace():
    result = run_program("x = 41\n", "x += 1\nassert x == 42\nprint('tests ran', x)", FAST)
    assert result.passed and "tests ran 42" in result.stdout


@pytest.mark.parametrize(
    "exit_line", ["import sys; sys.exit(0)", "import os; os._exit(0)", "raise SystemExit"]
)
def test_exiting_zero_before_the_tests_is_not_a_pass(exit_line):
    result = run_program(f"def ok():\n    return True\n{exit_line}\n", "assert ok()", FAST)
    assert result.verdict == "crash" and "before the tests completed" in result.detail


def test_printing_success_is_not_a_pass():
    program = "print('PASS'); print('passed'); import os; os._exit(0)"
    assert run_program(program, "assert False", FAST).verdict == "crash"


def test_cpu_limit_is_a_timeout():
    # Wall time to spare: on a loaded machine 1 CPU second can take many wall seconds.
    limits = Limits(wall_timeout_s=60.0, cpu_time_s=1, address_space_mb=512)
    result = run_program("while True:\n    pass\n", "", limits)
    assert result.verdict == "timeout" and "CPU" in result.detail
    assert result.cpu_s is not None and result.cpu_s >= limits.cpu_time_s - 0.1  # rusage ticks


def test_wall_clock_kills_a_sleeper():
    limits = Limits(wall_timeout_s=1.0, cpu_time_s=5)
    result = run_program("import time\ntime.sleep(60)\n", "", limits)
    assert result.verdict == "timeout" and "wall-clock" in result.detail
    assert result.wall_s < 5 and no_leftovers(result)


def test_memory_limit():
    result = run_program("x = bytearray(8 * 1024**3)\n", "", FAST)
    assert result.verdict == "memory"


def test_environment_is_empty(monkeypatch):
    monkeypatch.setenv("PROMGATE_TEST_SECRET", "hunter2")
    result = run_program("import os\nprint(sorted(os.environ))\n", "", FAST)
    assert result.passed and "PROMGATE_TEST_SECRET" not in result.stdout
    assert "hunter2" not in result.stdout


def test_stdin_is_closed():
    result = run_program("import sys\nassert sys.stdin.read() == ''\n", "", FAST)
    assert result.passed


def test_output_is_capped_in_the_report():
    limits = Limits(wall_timeout_s=4.0, cpu_time_s=2, output_bytes=1000)
    result = run_program("print('x' * 100_000)\n", "", limits)
    assert result.passed and len(result.stdout) == 1000 and result.stdout_bytes > 100_000


def test_working_directory_is_private_and_writable():
    program = "import os\nopen('scratch.txt', 'w').write('ok')\nprint(os.getcwd(), os.listdir('.'))"
    first = run_program(program, "", FAST)
    second = run_program("import os\nprint(os.listdir('.'))", "", FAST)
    assert first.passed and "scratch.txt" in first.stdout
    assert second.passed and "scratch.txt" not in second.stdout


def test_hash_seed_is_fixed_so_verdicts_repeat():
    program = "print(list({'alpha', 'beta', 'gamma', 'delta', 'epsilon'}))"
    outputs = {run_program(program, "", FAST).stdout for _ in range(3)}
    assert len(outputs) == 1


def test_report_names_what_is_enforced_and_what_is_not():
    result = run_program("pass", "", FAST)
    protections = result.sandbox.protections
    assert result.sandbox.backend == select_backend().name
    for name in ("rlimit_cpu", "rlimit_address_space", "empty_environment", "closed_stdin"):
        assert protections[name] == ENFORCED
    assert protections["audit_guard"] == ENFORCED
    assert all(v == ENFORCED or v.startswith("unavailable: ") for v in protections.values())
    unguarded = run_program("pass", "", FAST, guard=False).sandbox
    assert unguarded.unavailable["pass_report_authenticated"].startswith("unavailable")


def test_run_many_keeps_order_and_isolates_runs():
    jobs = [(f"x = {i}\n", f"assert x == {i}\n") for i in range(6)]
    jobs.append(("x = 0\n", "assert x == 1\n"))
    results = run_many(jobs, FAST, workers=3)
    assert [r.verdict for r in results] == ["passed"] * 6 + ["wrong_answer"]
    assert len({r.sandbox.uid for r in results}) == len(results)  # a fresh uid per run


def test_limits_are_validated():
    with pytest.raises(ValueError):
        Limits(cpu_time_s=0)
    with pytest.raises(ValueError):
        Limits(open_files=0)
