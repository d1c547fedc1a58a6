"""Zygotes: warm sandboxes that run many programs, none of which can touch the next.

Each test runs a program that tries to leave something behind, then a second program in
the same zygote (checked by its id) that must not see it.
"""

from __future__ import annotations

import time

import pytest

from promgate.sandbox import Limits, close_zygotes, run_many, run_program, select_backend
from promgate.sandbox.runner import ZYGOTE_SHARED, uses_zygote
from promgate.sandbox.sweep import processes_of
from promgate.sandbox.zygote import Zygote

FAST = Limits(wall_timeout_s=10.0, cpu_time_s=2, address_space_mb=512)

pytestmark = pytest.mark.skipif(
    not uses_zygote(select_backend()), reason="zygotes need bubblewrap and root"
)


@pytest.fixture(autouse=True)
def one_zygote():
    """Start each test with no idle zygote, so consecutive runs share exactly one."""
    close_zygotes()
    yield
    close_zygotes()


def in_turn(*programs: str, tests: str = "") -> list:
    results = [run_program(program, tests, FAST) for program in programs]
    assert len({r.sandbox.zygote for r in results}) == 1, "expected one zygote for all"
    return results


def test_consecutive_programs_share_a_zygote_but_not_a_uid():
    first, second = in_turn("pass", "pass")
    assert first.passed and second.passed and first.sandbox.zygote is not None
    assert first.sandbox.uid != second.sandbox.uid
    assert first.sandbox.protections["namespace_per_program"] == ZYGOTE_SHARED


def test_files_written_by_one_program_are_gone_for_the_next():
    writer = (
        "import os\n"
        "open('/work/left.txt', 'w').write('x')\n"
        "open('/tmp/left.txt', 'w').write('x')\n"
        "os.makedirs('/tmp/deep/er', exist_ok=True)\n"
        "os.chmod('/tmp/deep', 0)\n"  # locked by its owner: still removed
    )
    reader = "import os\nassert os.listdir('/work') == [] and os.listdir('/tmp') == []\n"
    first, second = in_turn(writer, reader)
    assert first.passed, first.stderr
    assert second.passed, second.stderr


def test_monkeypatching_does_not_reach_the_next_program():
    patcher = (
        "import builtins, math, sys, typing\n"
        "math.sqrt = lambda x: 42\n"
        "builtins.len = lambda x: -1\n"
        "typing.List = None\n"
        "sys.modules['collections'] = None\n"
        "sys.setrecursionlimit(50)\n"
    )
    checker = (
        "import collections, math, sys, typing\n"
        "assert math.sqrt(4) == 2 and len([1, 2]) == 2 and typing.List is not None\n"
        "assert collections.Counter('aab')['a'] == 2 and sys.getrecursionlimit() == 1000\n"
    )
    first, second = in_turn(patcher, checker)
    assert first.passed and second.passed, second.stderr


def test_a_thread_left_running_dies_with_its_program():
    leaver = (
        "import threading, time\n"
        "def later():\n"
        "    time.sleep(1.0)\n"
        "    open('/work/late.txt', 'w').write('too late')\n"
        "threading.Thread(target=later).start()\n"  # not a daemon: would keep a process alive
    )
    checker = (
        "import os, threading, time\n"
        "time.sleep(1.5)\n"
        "assert threading.active_count() == 1 and os.listdir('/work') == []\n"
    )
    first, second = in_turn(leaver, checker)
    assert first.passed and second.passed, second.stderr
    assert not processes_of((first.sandbox.uid, first.sandbox.uid + 1))


def test_a_timed_out_program_leaves_a_working_zygote():
    sleeper, after = in_turn("import time\ntime.sleep(60)\n", "x = 1", tests="assert x == 1")
    assert sleeper.verdict == "timeout" and "wall-clock" in sleeper.detail
    assert sleeper.wall_s < FAST.wall_timeout_s + 5 and after.passed
    assert not processes_of((sleeper.sandbox.uid, sleeper.sandbox.uid + 1))


def test_an_unwipeable_program_retires_its_zygote():
    # Deeper than the cleaner's recursion: it cannot empty /work, so the zygote must go.
    nester = "import os\nfor _ in range(1200):\n    os.mkdir('d')\n    os.chdir('d')\n"
    first = run_program(nester, "", FAST)
    second = run_program("import os\nassert os.listdir('/work') == []\n", "", FAST)
    assert first.passed and second.passed, second.stderr
    assert first.sandbox.zygote != second.sandbox.zygote


def test_unguarded_runs_get_a_zygote_each():
    first = run_program("pass", "", FAST, guard=False)
    second = run_program("pass", "", FAST, guard=False)
    assert first.passed and second.passed
    assert first.sandbox.zygote != second.sandbox.zygote
    assert "namespace_per_program" not in first.sandbox.protections


def test_an_unguarded_forked_daemon_is_killed():
    daemon = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        time.sleep(30)\n"
        "    os._exit(0)\n"
    )
    result = run_program(daemon, "", FAST, guard=False)
    assert result.passed
    time.sleep(0.2)
    assert not processes_of((result.sandbox.uid,))


def test_fresh_runs_bypass_the_zygote():
    result = run_program("pass", "", FAST, fresh=True)
    assert result.passed and result.sandbox.zygote is None
    assert "namespace_per_program" not in result.sandbox.protections


def test_workers_each_get_a_zygote_and_keep_the_order():
    jobs = [(f"x = {i}\n", f"assert x == {i}\n") for i in range(12)]
    results = run_many(jobs, FAST, workers=3)
    assert all(r.passed for r in results)
    assert 1 < len({r.sandbox.zygote for r in results}) <= 3


def test_a_dead_zygote_is_not_reused():
    first = run_program("pass", "", FAST)
    from promgate.sandbox.zygote import POOL

    [zygote] = [z for idle in POOL.idle.values() for z in idle]
    zygote.process.kill()
    zygote.process.wait()
    second = run_program("pass", "", FAST)
    assert second.passed and second.sandbox.zygote != first.sandbox.zygote


def test_a_zygote_that_stops_answering_gives_no_verdict_of_its_own():
    zygote = Zygote(select_backend(), 8)
    zygote.kill()
    assert zygote.run({"uid": 1 << 24}, [], 1.0) is None


def test_zygotes_outlive_the_threads_that_used_them():
    """bubblewrap dies with the thread that forked it: pool threads must not be that thread."""
    first = run_many([("pass", "")] * 4, FAST, workers=2)
    time.sleep(0.3)  # the executor's threads are gone by now
    second = run_many([("pass", "")] * 4, FAST, workers=2)
    assert all(r.passed for r in first + second)
    assert {r.sandbox.zygote for r in second} <= {r.sandbox.zygote for r in first}


def test_a_run_holds_only_its_own_channels():
    """The zygote's channel, report socket and result fd are closed before the program runs."""
    program = (
        "import os\n"
        "def is_open(fd):\n"
        "    try:\n"
        "        os.fstat(fd)\n"
        "        return True\n"
        "    except OSError:\n"
        "        return False\n"
        "print([fd for fd in range(1024) if is_open(fd)])\n"
    )
    for guard in (True, False):
        result = run_program(program, "", FAST, guard=guard)
        assert result.passed and result.stdout.strip() == "[0, 1, 2, 3]", result.stdout
