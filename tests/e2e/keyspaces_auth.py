"""SigV4 for the DataStax Python driver, as AWS's plugin for it does it.

AWS publishes the Python plugin (cassandra-sigv4) on PyPI only, which these
machines cannot reach; this is the same exchange, written from the
protocol AWS documents for its plugins ("Using a Cassandra Python client
driver to access Amazon Keyspaces programmatically", and the plugins'
READMEs): the client opens with "SigV4\\0\\0", cqld (or Keyspaces) answers
"nonce=<hex>", the client sends "signature=...,access_key=...,amzdate=...".
The signature is checked against AWS's published vector below, so a
mistake here fails loudly instead of hiding one in cqld.

    auth_provider = SigV4AuthProvider(key_id, secret, "us-east-1")
"""

import datetime
import hashlib
import hmac
import urllib.parse

from cassandra.auth import AuthProvider, Authenticator


def sign(nonce, key_id, secret, region, amzdate):
    """The hex signature of Keyspaces' SigV4 exchange for nonce."""
    day = amzdate[:10].replace("-", "")
    scope = f"{day}/{region}/cassandra/aws4_request"
    query = "&".join([
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Credential=" + urllib.parse.quote(f"{key_id}/{scope}", safe=""),
        "X-Amz-Date=" + urllib.parse.quote(amzdate, safe=""),
        "X-Amz-Expires=900"])
    canonical = "\n".join(["PUT", "/authenticate", query, "host:cassandra", "",
                           "host", hashlib.sha256(nonce.encode()).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "cassandra", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


# AWS's published vector (DESIGN.md, "Useful facts"): a wrong signer fails here.
assert sign("91703fdc2ef562e19fbdab0f58e42fe5", "UserID-1", "UserSecretKey-1",
            "us-west-2", "2020-06-09T22:41:51.000Z") == \
    "7f3691c18a81b8ce7457699effbfae5b09b4e0714ab38c1292dbdf082c9ddd87"


class SigV4Authenticator(Authenticator):
    def __init__(self, key_id, secret, region):
        self.key_id, self.secret, self.region = key_id, secret, region

    def initial_response(self):
        return b"SigV4\x00\x00"

    def evaluate_challenge(self, challenge):
        text = challenge.decode()
        if not text.startswith("nonce="):
            raise ValueError("unexpected SigV4 challenge: %r" % text)
        nonce = text[len("nonce="):].split(",")[0]
        now = datetime.datetime.now(datetime.timezone.utc)
        amzdate = now.strftime("%Y-%m-%dT%H:%M:%S.") + \
            "%03dZ" % (now.microsecond // 1000)
        sig = sign(nonce, self.key_id, self.secret, self.region, amzdate)
        return ("signature=%s,access_key=%s,amzdate=%s" %
                (sig, self.key_id, amzdate)).encode()


class SigV4AuthProvider(AuthProvider):
    def __init__(self, key_id, secret, region):
        self.key_id, self.secret, self.region = key_id, secret, region

    def new_authenticator(self, host):
        return SigV4Authenticator(self.key_id, self.secret, self.region)
