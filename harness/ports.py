"""Free loopback ports, chosen by the kernel, never fixed."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_bindable(host: str, port: int) -> None:
    """Raise ``OSError`` now if ``host:port`` cannot be listened on (taken, or not an address
    of this machine): uvicorn would log it and exit 1, or 3, as if the service had failed."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        sock.bind((host, port))
