"""Backend detection and the degraded backends: what they enforce, and what they report."""

from __future__ import annotations

import socket

import pytest

from promgate.sandbox import Limits, run_program, select_backend
from promgate.sandbox.isolation import BACKEND_ENV, ENFORCED

FAST = Limits(wall_timeout_s=2.0, cpu_time_s=1, address_space_mb=512)
ALWAYS = ("process_group", "rlimit_cpu", "rlimit_address_space", "empty_environment")


def test_best_backend_is_probed_and_reported():
    backend = select_backend()
    assert backend.name in ("bwrap", "unshare", "plain")
    assert all(backend.protections[name] == ENFORCED for name in ALWAYS)
    assert all(
        value == ENFORCED or value.startswith("unavailable: ")
        for value in backend.protections.values()
    )


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown sandbox backend"):
        select_backend("docker")


def test_environment_variable_forces_a_backend(monkeypatch):
    monkeypatch.setenv(BACKEND_ENV, "plain")
    assert select_backend().name == "plain"


def test_plain_backend_reports_what_it_cannot_do():
    plain = select_backend("plain")
    for name in ("network_namespace", "pid_namespace", "readonly_filesystem", "no_proc"):
        assert plain.protections[name].startswith("unavailable: ")
    result = run_program("def f():\n    return 1\n", "assert f() == 1", FAST, backend="plain")
    assert result.passed and result.sandbox.backend == "plain"
    assert "network_namespace" in result.sandbox.unavailable


@pytest.mark.parametrize("backend", ["plain", "unshare"])
def test_degraded_backends_still_judge_and_kill(backend):
    try:
        select_backend(backend)
    except RuntimeError as exc:
        pytest.skip(str(exc))
    assert run_program("import os\nos._exit(0)", "assert True", FAST, backend=backend).verdict == (
        "crash"
    )
    sleeper = run_program("import time\ntime.sleep(30)", "", FAST, backend=backend)
    assert sleeper.verdict == "timeout" and sleeper.wall_s < 10
    assert run_program("x = 1", "assert x == 2", FAST, backend=backend).verdict == "wrong_answer"


def test_guard_keeps_host_reads_out_where_mounts_cannot(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    result = run_program(f"print(open({str(secret)!r}).read())", "", FAST, backend="plain")
    assert result.verdict == "sandbox_violation" and "do not read" not in result.stdout


def test_unshare_backend_has_no_route_to_the_host():
    try:
        unshare = select_backend("unshare")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    assert unshare.protections["network_namespace"] == ENFORCED
    assert unshare.protections["readonly_filesystem"].startswith("unavailable")
    server = socket.create_server(("127.0.0.1", 0))
    program = (
        "import socket\n"
        f"socket.create_connection(('127.0.0.1', {server.getsockname()[1]}), timeout=2)\n"
    )
    result = run_program(program, "", FAST, backend="unshare", guard=False)
    server.settimeout(0.2)
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()
    assert result.verdict == "crash" and "unreachable" in result.detail.lower()


def test_a_broken_sandbox_raises_instead_of_judging():
    """Every program turning into "crash" would read as a model scoring 0: refuse instead."""
    import dataclasses

    from promgate.errors import PromgateError
    from promgate.sandbox.runner import SandboxError, _self_test

    plain = select_backend("plain")
    interpreter = dataclasses.replace(plain.interpreter, executable="/bin/false")
    broken = dataclasses.replace(plain, name="broken", interpreter=interpreter)
    with pytest.raises(SandboxError, match="fails its self-test") as err:
        _self_test(broken)
    assert isinstance(err.value, PromgateError)
