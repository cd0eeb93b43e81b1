"""The client container's nginx config, rendered by envsubst as the image does and run under
Debian's nginx on free ports: for tests of what nginx proxies (/websocket, /history, ...)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.ports import free_port
from harness.process import ManagedProcess, http_ok, wait_for
from harness.services import ROOT


@contextmanager
def nginx_client(root: Path, tmp_path: Path, gateway_url: str, history_url: str) -> Iterator[int]:
    """nginx serving ``root`` on the returned port (the static server block), proxying to these URLs."""
    port = free_port()
    env = {
        **os.environ,
        "CLIENT_PORT": str(port),
        "CLIENT_GATEWAY_URL": gateway_url,
        "CLIENT_HISTORY_URL": history_url,
        "CLIENT_ROOT": str(root),
        "CLIENT_GATEWAY_PORT": str(free_port()),
        "NGINX_LOCAL_RESOLVERS": "127.0.0.1",  # unused: the upstream addresses here are IPs
    }
    template = (ROOT / "client/nginx/default.conf.template").read_text()
    rendered = subprocess.run(
        ["envsubst", " ".join(f"${{{name}}}" for name in env if name.startswith(("CLIENT_", "NGINX_")))],
        input=template,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    (tmp_path / "default.conf").write_text(rendered)
    (tmp_path / "nginx.conf").write_text(
        f"daemon off; master_process off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/error.log;\n"
        f"events {{}}\nhttp {{ include /etc/nginx/mime.types; access_log off;\n"
        f"  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"  fastcgi_temp_path {tmp_path}/fcgi; uwsgi_temp_path {tmp_path}/uwsgi;\n"
        f"  scgi_temp_path {tmp_path}/scgi;\n"
        f"  include {tmp_path}/default.conf; }}\n"
    )
    # One process (master_process off): workers would drop to a user that cannot read pytest's 0700 tmp.
    nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
    process = ManagedProcess(
        [nginx_bin, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")], tmp_path / "nginx.out"
    ).start()
    try:
        assert wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/"), 10), process.tail()
        yield port
    finally:
        process.stop()
