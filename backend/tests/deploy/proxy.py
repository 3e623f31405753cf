"""The project's reverse proxy rules (docker/proxy/) run by the host's nginx, for the tests.

The image's nginx.conf finds the replicas through the compose DNS; here they are processes on
loopback ports, so this nginx.conf lists them in an upstream group and includes the same
aido-http.conf and aido-server.conf the image uses (headers, retries, timeouts, error pages).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aido.testing.ports import free_port

PROXY_CONF_DIR = Path(__file__).resolve().parents[3] / "docker" / "proxy"
# nginx connects to the replicas from this address, the one their FORWARDED_ALLOW_IPS trusts;
# test clients use other loopback addresses, so a client is never mistaken for the proxy.
PROXY_SOURCE_ADDRESS = "127.0.0.2"
START_TIMEOUT = 15.0

CONF = """\
daemon off;
{user}
worker_processes 1;
pid {work}/nginx.pid;
error_log {work}/error.log info;
events {{ worker_connections 512; }}
http {{
    include {conf_dir}/aido-http.conf;
    access_log {work}/access.log aido_json;
    client_body_temp_path {work}/body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    upstream aido_replicas {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        proxy_bind {source};
        set $aido_upstream http://aido_replicas;
        include {conf_dir}/aido-server.conf;
    }}
}}
"""


def _find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
    )


def nginx_binary() -> str:
    """Debian's nginx (package nginx-light), installed with apt-get when missing and root."""
    found = _find_nginx()
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("replica tests: nginx is missing: apt-get install -y nginx-light…", file=sys.stderr)
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(["apt-get", "install", "-y", "-q", "nginx-light"], capture_output=True,
                       check=False)  # fmt: skip
        found = _find_nginx()
    if found is None:
        raise RuntimeError(
            "the replica tests need nginx on this machine: apt-get install -y nginx-light"
        )
    return found


@dataclass
class Proxy:
    url: str
    work: Path
    process: subprocess.Popen[bytes]

    def access_log(self) -> list[dict[str, Any]]:
        path = self.work / "access.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def error_log(self) -> str:
        path = self.work / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def run_proxy(replica_ports: list[int], work: Path) -> Iterator[Proxy]:
    """nginx in the foreground in front of `replica_ports`, stopped gracefully at the end."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in replica_ports)
    conf = work / "nginx.conf"
    conf.write_text(
        CONF.format(
            work=work,
            conf_dir=PROXY_CONF_DIR,
            servers=servers,
            port=port,
            source=PROXY_SOURCE_ADDRESS,
            # As root, nginx's workers would run as `nobody`, who cannot write the temp files
            # of large bodies under pytest's private temp dir (the image runs as one user).
            user="user root;" if os.geteuid() == 0 else "",
        )
    )
    nginx = nginx_binary()
    check = subprocess.run(
        [nginx, "-t", "-q", "-p", str(work), "-c", str(conf)], capture_output=True, text=True
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx rejects the proxy configuration:\n{check.stderr}")
    with (work / "stderr.log").open("wb") as stderr:
        process = subprocess.Popen(
            [nginx, "-p", str(work), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=stderr
        )
    proxy = Proxy(f"http://127.0.0.1:{port}", work, process)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _accepts(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"nginx did not start:\n{proxy.error_log()[-2000:]}")
            time.sleep(0.05)
        yield proxy
    finally:
        if process.poll() is None:
            process.send_signal(3)  # SIGQUIT: nginx's graceful shutdown
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
