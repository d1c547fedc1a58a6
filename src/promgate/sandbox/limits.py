"""Resource limits for untrusted programs, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    wall_timeout_s: float = 15.0
    cpu_time_s: int = 10  # CPU seconds, not wall: verdicts must not depend on machine load
    address_space_mb: int = 2048
    max_processes: int = 64  # threads count too (RLIMIT_NPROC counts tasks of the run's uid)
    file_size_mb: int = 16  # also caps stdout/stderr, which are files to the program
    open_files: int = 64
    output_bytes: int = 64_000  # kept from each of stdout and stderr for the report
    scratch_mb: int = 64  # size of each private tmpfs (/work, /tmp) where the backend has one

    def __post_init__(self) -> None:
        if self.wall_timeout_s <= 0 or self.cpu_time_s < 1:
            raise ValueError("wall_timeout_s must be > 0 and cpu_time_s >= 1")
        for name in ("address_space_mb", "max_processes", "file_size_mb", "open_files"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
