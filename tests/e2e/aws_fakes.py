"""Fake AWS credential endpoints on loopback, shared by the credential tests.

FakeEndpoint("imds", creds) plays the EC2 instance metadata service, IMDSv2
only: every GET without a session token from `PUT /latest/api/token` is
refused with 401, so an IMDSv1 fallback would fail. FakeEndpoint("container",
creds) plays the ECS / EKS container endpoint at /creds (wanting its
Authorization header when auth_token is given). Both answer 500 for the
credentials while `failing` is set. Creds is one set of credentials; its
document always carries Token and Expiration when given a lifetime (a
negative lifetime hands out credentials that have already expired).
"""
import datetime
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE = "mail-lookup-role"


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Creds:
    """One set of credentials: what a fake endpoint hands out."""

    def __init__(self, key_id, secret, token=None, lifetime=None):
        self.key_id = key_id
        self.secret = secret
        self.token = token
        self.expiration = time.time() + lifetime if lifetime else None

    def document(self, imds=False):
        d = {"AccessKeyId": self.key_id, "SecretAccessKey": self.secret}
        if self.token:
            d["Token"] = self.token
        if self.expiration:
            d["Expiration"] = iso(self.expiration)
        if imds:
            d.update(Code="Success", Type="AWS-HMAC", LastUpdated=iso(time.time()))
        return json.dumps(d).encode()


class FakeEndpoint:
    """A small HTTP server on 127.0.0.1 in a thread: fake IMDSv2 or container endpoint."""

    def __init__(self, kind, creds, port=0, auth_token=None):
        self.kind = kind
        self.creds = creds
        self.auth_token = auth_token
        self.tokens = set()
        self.failing = False       # answer 500 for credentials
        self.log = []              # (method, path, outcome)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, code, body=b""):
                with outer.lock:
                    outer.log.append((self.command, self.path, code))
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def do_PUT(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                if outer.kind != "imds" or self.path != "/latest/api/token":
                    return self.reply(404)
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
                if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self.reply(400)
                tok = "imds-session-" + os.urandom(12).hex()
                with outer.lock:
                    outer.tokens.add(tok)
                return self.reply(200, tok.encode())

            def do_GET(self):
                if outer.kind == "imds":
                    # IMDSv2 only: no valid session token, no answer.
                    if self.headers.get("X-aws-ec2-metadata-token") not in outer.tokens:
                        return self.reply(401)
                    base = "/latest/meta-data/iam/security-credentials/"
                    if self.path == base:
                        return self.reply(200, ROLE.encode())
                    if self.path == base + ROLE:
                        if outer.failing:
                            return self.reply(500)
                        return self.reply(200, outer.current().document(imds=True))
                    return self.reply(404)
                if outer.auth_token and self.headers.get("Authorization") != outer.auth_token:
                    return self.reply(403)
                if self.path != "/creds":
                    return self.reply(404)
                if outer.failing:
                    return self.reply(500)
                return self.reply(200, outer.current().document())

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def current(self):
        with self.lock:
            return self.creds

    def set(self, creds):
        with self.lock:
            self.creds = creds

    def count(self, method, path_prefix, code=None):
        with self.lock:
            return sum(1 for m, p, c in self.log
                       if m == method and p.startswith(path_prefix) and (code is None or c == code))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
