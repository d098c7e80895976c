"""Where a phase's CPU time went: the server (gunicorn and its workers), PostgreSQL, and the clients.

The three share this machine's cores, so a phase's rate can be no higher than
cores / (CPU seconds per request of all three together): the ceiling printed
beside each phase. PostgreSQL is counted when it runs on this host (processes
named `postgres`); the clients are this benchmark's own process.
"""
from contextlib import contextmanager

import psutil

POSTGRES_NAMES = ("postgres", "postmaster")


@contextmanager
def cpu_split(server_pid: int):
    """Yields a dict that holds, once the block ends, CPU seconds per part during it."""
    before = _by_process(server_pid)
    split: dict[str, float] = {}
    yield split
    after = _by_process(server_pid)
    for part, seconds in after.items():
        split[part] = sum(used - before[part].get(pid, 0.0) for pid, used in seconds.items())


def per_request(split: dict[str, float], count: int, unit: str = "request") -> str:
    """One line: milliseconds of CPU per request (or `unit`) of each part, and the rate the cores allow."""
    parts = ", ".join(f"{part} {seconds / count * 1000:.2f} ms" for part, seconds in split.items())
    together = sum(split.values()) / count
    cores = psutil.cpu_count()
    return (f"  CPU per {unit}: {parts}; together {together * 1000:.2f} ms, "
            f"so at most {cores / together:.0f} {unit}s/s on {cores} cores")


def _by_process(server_pid: int) -> dict[str, dict[int, float]]:
    """CPU seconds (user and system) so far of each process of each part, by process ID.

    By process: a PostgreSQL backend that starts during the phase counts from zero.
    """
    server = psutil.Process(server_pid)
    postgres = [process for process in psutil.process_iter(["name"]) if process.info["name"] in POSTGRES_NAMES]
    return {"server": _seconds([server, *server.children(recursive=True)]), "PostgreSQL": _seconds(postgres),
            "clients": _seconds([psutil.Process()])}


def _seconds(processes) -> dict[int, float]:
    used = {}
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:  # ended meanwhile
            continue
        used[process.pid] = times.user + times.system
    return used
