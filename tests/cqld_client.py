"""cqld_client - talk to cqld's control socket (tests/cqld/cqld.c, CONTROL SOCKET).

One command per connection: send the line, read the one reply line
("ok ..." or "error ..."). Shared by the end-to-end tests
(tests/e2e/conftest.py, cqld_control) and the benchmark (bench/run.py),
so that the two cannot drift apart.
"""
import socket

CONTROL_TIMEOUT_S = 10      # connect and each read, seconds
READ_CHUNK = 4096           # bytes per recv


def control(port, cmd, host="127.0.0.1", timeout=CONTROL_TIMEOUT_S):
    """Send one command to cqld's control port; return the reply line,
    stripped (empty if cqld closed the connection without answering)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(cmd.encode() + b"\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(READ_CHUNK)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()
