"""A fake AWS STS on 127.0.0.1 over HTTPS, for the credential tests.

It answers AssumeRole and AssumeRoleWithWebIdentity as STS does (form POST,
XML answers, STS's ErrorResponse documents) and checks what it gets:

- AssumeRoleWithWebIdentity: the token must be one it was told to accept
  (`web_tokens`), the role one it knows;
- AssumeRole: the request must carry a valid SigV4 Authorization for service
  `sts` and the server's region (any region when it has none: the SDKs
  differ in the region they sign AssumeRole for), signed by credentials it was told about
  (`callers`: access key id -> Creds), with their session token as
  X-Amz-Security-Token; the ExternalId must match the role's, when it has one.
  The verifier below is written from the SigV4 documentation with hmac and
  hashlib only (no botocore), so it is independent of the daemon's signer.

Every call is recorded in `calls` (dicts: action, role, session, caller,
external_id, duration, outcome). `error` makes every call fail with an STS
error (code, message, HTTP status); `down` makes it close connections
without an answer. Roles answer with whatever Creds `roles[arn]` holds at
the time of the call, so a test can rotate them.
"""
import datetime
import hashlib
import hmac
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aws_fakes import iso

NS = "https://sts.amazonaws.com/doc/2011-06-15/"
CLOCK_SKEW_S = 300      # as STS: a request more than 5 min off is refused


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sigv4_expected(method, path, headers, body, signed, secret, date, region, service):
    """The signature of a request with an empty query, from the documentation."""
    canonical_headers = "".join(f"{h}:{' '.join(headers.get(h, '').strip().split())}\n"
                                for h in signed)
    canonical = "\n".join([method, path or "/", "", canonical_headers, ";".join(signed),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(("AWS4" + secret).encode(), date[:8])
    for part in (region, service, "aws4_request"):
        k = _hmac(k, part)
    return hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()


def check_sigv4(method, path, headers, body, callers, region):
    """(key id, None) when the Authorization is valid, else (key id or None, why)."""
    auth = headers.get("authorization", "")
    if not auth.startswith("AWS4-HMAC-SHA256 "):
        return None, "MissingAuthenticationToken"
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    key_id, _, scope = fields.get("Credential", "").partition("/")
    signed = fields.get("SignedHeaders", "").split(";")
    date = headers.get("x-amz-date", "")
    if key_id not in callers:
        return key_id, "InvalidClientTokenId"
    c = callers[key_id]
    if "host" not in signed or "x-amz-date" not in signed:
        return key_id, "host and x-amz-date must be signed"
    scope_region = scope.split("/")[1] if scope.count("/") == 3 else ""
    if scope != f"{date[:8]}/{region or scope_region}/sts/aws4_request" or not scope_region:
        return key_id, f"SignatureDoesNotMatch: scope {scope}"
    region = region or scope_region
    try:
        t = datetime.datetime.strptime(date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return key_id, "IncompleteSignature: X-Amz-Date"
    if abs(t.timestamp() - time.time()) > CLOCK_SKEW_S:
        return key_id, "SignatureDoesNotMatch: request time too skewed"
    if (c.token or None) != (headers.get("x-amz-security-token") or None):
        return key_id, "InvalidClientTokenId: session token"
    if c.token and "x-amz-security-token" not in signed:
        return key_id, "the session token must be signed"
    want = sigv4_expected(method, path, headers, body, signed, c.secret, date, region, "sts")
    if not hmac.compare_digest(want, fields.get("Signature", "")):
        return key_id, "SignatureDoesNotMatch"
    return key_id, None


class Role:
    def __init__(self, creds, external_id=None):
        self.creds = creds
        self.external_id = external_id


class FakeSTS:
    def __init__(self, pki, region="us-west-2"):
        self.region = region
        self.roles = {}           # ARN -> Role
        self.callers = {}         # access key id -> Creds allowed to call AssumeRole
        self.web_tokens = set()   # web identity tokens accepted
        self.calls = []
        self.error = None         # (code, message, status)
        self.down = False
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def reply(self, status, xml):
                body = xml.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

            def fail(self, call, code, message, status=400):
                call["outcome"] = code
                self.reply(status, f'<ErrorResponse xmlns="{NS}"><Error><Type>Sender</Type>'
                                   f"<Code>{code}</Code><Message>{message}</Message></Error>"
                                   "<RequestId>fake-0001</RequestId></ErrorResponse>")

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.down:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode()).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                action = form.get("Action")
                call = dict(action=action, role=form.get("RoleArn"),
                            session=form.get("RoleSessionName"), caller=None,
                            external_id=form.get("ExternalId"),
                            duration=form.get("DurationSeconds"),
                            token=form.get("WebIdentityToken"),
                            content_type=headers.get("content-type"), outcome=None)
                with outer.lock:
                    outer.calls.append(call)
                if form.get("Version") != "2011-06-15":
                    return self.fail(call, "InvalidAction", "bad Version")
                if outer.error:
                    code, message, status = outer.error
                    return self.fail(call, code, message, status)
                role = outer.roles.get(call["role"])
                if action == "AssumeRoleWithWebIdentity":
                    if "authorization" in headers:
                        return self.fail(call, "InvalidParameterValue", "signed web identity call")
                    if call["token"] not in outer.web_tokens:
                        return self.fail(call, "InvalidIdentityToken",
                                         "Couldn't retrieve verification key from your identity provider")
                elif action == "AssumeRole":
                    call["caller"], why = check_sigv4("POST", self.path, headers, body,
                                                      outer.callers, outer.region)
                    if why:
                        return self.fail(call, why.split(":")[0], why, 403)
                    if role and role.external_id and role.external_id != call["external_id"]:
                        return self.fail(call, "AccessDenied", "wrong ExternalId", 403)
                else:
                    return self.fail(call, "InvalidAction", f"Could not find operation {action}")
                if role is None or not call["session"]:
                    return self.fail(call, "AccessDenied", f"Not authorized to assume {call['role']}", 403)
                c = role.creds
                call["outcome"] = "ok"
                arn = call["role"].replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")
                self.reply(200, f'<{action}Response xmlns="{NS}"><{action}Result>'
                                f"<AssumedRoleUser><Arn>{arn}/{call['session']}</Arn>"
                                f"<AssumedRoleId>AROAFAKE:{call['session']}</AssumedRoleId></AssumedRoleUser>"
                                f"<Credentials><AccessKeyId>{c.key_id}</AccessKeyId>"
                                f"<SecretAccessKey>{c.secret}</SecretAccessKey>"
                                f"<SessionToken>{c.token}</SessionToken>"
                                f"<Expiration>{iso(c.expiration)}</Expiration></Credentials>"
                                f"</{action}Result><ResponseMetadata><RequestId>fake-0002"
                                f"</RequestId></ResponseMetadata></{action}Response>")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(pki.server_cert, pki.server_key)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = f"https://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def role(self, arn, creds, external_id=None):
        with self.lock:
            self.roles[arn] = Role(creds, external_id)

    def ok_calls(self, action=None):
        with self.lock:
            return [c for c in self.calls if c["outcome"] == "ok"
                    and (action is None or c["action"] == action)]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
