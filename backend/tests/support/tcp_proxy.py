"""A TCP proxy between the backend and Postgres that makes the faults Neon makes.

- hold_new(seconds): new connections wait before reaching Postgres (a cold start);
- drop_all(): every open connection is cut (a suspend, seen by the client as EOF);
- refuse() / restore(): nothing listens, connects are refused (an outage), then back;
- blackhole(True): connections are accepted but nothing is forwarded (a network that hangs).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

from aido.testing.ports import free_port


class TcpProxy:
    def __init__(self, target_host: str, target_port: int, *, port: int | None = None) -> None:
        self.target = (target_host, target_port)
        self.port = port or free_port()
        self.hold_seconds = 0.0
        self.blackholed = False
        self._listener: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False

    # lifecycle -----------------------------------------------------------------------------
    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()
        return self

    def close(self) -> None:
        self._closed = True
        self.refuse()
        self.drop_all()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # faults --------------------------------------------------------------------------------
    def hold_new(self, seconds: float) -> None:
        self.hold_seconds = seconds

    def blackhole(self, on: bool) -> None:
        self.blackholed = on

    def drop_all(self) -> int:
        with self._lock:
            conns, self._conns = self._conns, set()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()
        return len(conns)

    def refuse(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def restore(self) -> None:
        if self._listener is None and not self._closed:
            self.start()

    # plumbing ------------------------------------------------------------------------------
    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._conns.update(socks)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # refused or closed
            self._track(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.hold_seconds:
            time.sleep(self.hold_seconds)
        if self.blackholed:
            return  # keep the socket open and silent until drop_all()
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        self._track(upstream)
        self._pump(client, upstream)

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select(list(peers), [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()
            with self._lock:
                self._conns.discard(a)
                self._conns.discard(b)
