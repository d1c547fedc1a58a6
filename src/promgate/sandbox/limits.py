"""Resource limits for untrusted programs, in one place."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    wall_timeout_s: float = 10.0
    cpu_time_s: int = 10
    address_space_mb: int = 2048
    max_processes: int = 64
    file_size_mb: int = 16
    open_files: int = 64
    output_bytes: int = 64_000
