"""Loopback ports that are free and really reach whoever listens on them.

A rootful podman (the container lab, and many CI hosts) publishes a container's port with
iptables DNAT rules and holds no socket on it, so the kernel hands that port out as free. A
server that then listens on it never sees a connection: they go to the container, or are
refused when the container's service is gone, as with a container a killed test run left
behind. `free_port` skips such ports: it listens on a port the kernel picked and connects to
it, and returns it only if its own listener accepted that very connection.

Standard library only: the scripts under scripts/ run it with the system Python.
"""

from __future__ import annotations

import socket
import struct

ATTEMPTS = 50
LOOPBACK = "127.0.0.1"
# After a loopback connect() returns, the connection already waits in the accept queue; a
# port taken over elsewhere shows nothing there. Bounded for a machine under load.
ACCEPT_WAIT = 0.5


class NoFreePortError(RuntimeError):
    pass


def reaches_itself(listener: socket.socket) -> bool:
    """Whether a connection to the listener's port arrives at the listener."""
    port = listener.getsockname()[1]
    try:
        probe = socket.create_connection((LOOPBACK, port), timeout=ACCEPT_WAIT)
    except OSError:
        return False  # refused or unanswered: taken over by a rule that leads elsewhere
    with probe:
        listener.settimeout(ACCEPT_WAIT)
        try:
            accepted, peer = listener.accept()
        except OSError:
            return False  # the connection was answered, but not by us
        with accepted:
            # Closed with a reset, so no TIME_WAIT is left on the port for its next owner.
            accepted.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return bool(peer == probe.getsockname())


def usable(port: int = 0) -> int | None:
    """`port` (0: one the kernel picks) if it can be bound on 127.0.0.1 and a connection to it
    reaches that listener; None otherwise."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        try:
            listener.bind((LOOPBACK, port))
            listener.listen(1)
        except OSError:
            return None
        bound = int(listener.getsockname()[1])
        return bound if reaches_itself(listener) else None


def free_port() -> int:
    """A free TCP port on 127.0.0.1 that no DNAT rule takes over."""
    for _ in range(ATTEMPTS):
        port = usable()
        if port is not None:
            return port
    raise NoFreePortError(
        f"no usable port in {ATTEMPTS} tries: connections to the ports the kernel offered went "
        "elsewhere (port forwarding rules of a container engine?)"
    )


if __name__ == "__main__":  # `python3 ports.py`: one port, for shell scripts
    print(free_port())
