"""A raw SMTP client for the end-to-end tests: bytes on the wire, as typed.

smtplib encodes commands as ASCII and quotes nothing for us, so a local part
of 1100 bytes, a byte that is not UTF-8 or an XCLIENT command go through this
instead. Replies come back as (code, text) with the continuation lines joined.
"""
import socket


class Dialogue:
    def __init__(self, port, timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.reply()                     # the greeting

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("smtpd closed the connection")
            self.buf += chunk
        out, _, self.buf = self.buf.partition(b"\r\n")
        return out

    def reply(self):
        """One reply: (code, text), multi-line text joined with newlines."""
        texts = []
        while True:
            ln = self.line()
            texts.append(ln[4:].decode("utf-8", "replace"))
            if ln[3:4] != b"-":
                return int(ln[:3]), "\n".join(texts)

    def cmd(self, command):
        """Send one command (str or bytes) and read its reply."""
        if isinstance(command, str):
            command = command.encode("utf-8", "surrogateescape")
        self.sock.sendall(command + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.cmd("QUIT")
        except (OSError, EOFError):
            pass
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
