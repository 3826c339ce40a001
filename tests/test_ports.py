"""The ports the stack, chaos and the tests choose for children that bind later."""

from __future__ import annotations

from pathlib import Path

from cli.up import UNCLAIMED_PORTS, free_port, port_free


def test_a_chosen_port_is_free_and_outside_the_kernels_ephemeral_range() -> None:
    """A port the kernel picked by itself can be taken by an outgoing connection before
    the child binds it, and the child exits on start (one reading of CI's chaos worker that
    did not start, stop 25)."""
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    ports = {free_port() for _ in range(20)}
    assert all(port in UNCLAIMED_PORTS and not low <= port <= high for port in ports)
    assert all(port_free(port) for port in ports)
    assert len(ports) > 1  # not a sequence seeded by the caller's `random`
