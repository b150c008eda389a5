"""Our SigV4 signer against AWS's own: aws-sigv4-auth-cassandra-plugin (npm).

For each case the plugin's SigV4Authenticator (driven by
tests/drivers/node/sigv4_vectors.js with the time fixed) and our signer
(build/sigv4-sign, the daemon's src/aws/sigv4.c) get the same credentials,
region, challenge and time; their answers must be identical byte for byte.
"""
import base64
import json
import os
import random
import shutil
import subprocess

import pytest

from conftest import BUILD, ROOT

NODE_DIR = ROOT / "tests" / "drivers" / "node"
SIGN = BUILD / "sigv4-sign"
PLUGIN = NODE_DIR / "node_modules" / "aws-sigv4-auth-cassandra-plugin"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not PLUGIN.exists(),
    reason="node or the npm plugin is missing (scripts/install-deps.sh)")

NONCE_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789"


def cases():
    rng = random.Random(4)     # fixed: a failure reproduces
    out = [
        # The published vector.
        dict(accessKeyId="UserID-1", secretAccessKey="UserSecretKey-1", region="us-west-2",
             challenge="nonce=91703fdc2ef562e19fbdab0f58e42fe5", epochMs=1591742511000),
        # With a session token (temporary credentials from a role).
        dict(accessKeyId="ASIAIOSFODNN7EXAMPLE",
             secretAccessKey="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
             sessionToken="IQoJb3JpZ2luX2VjEMr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc/def==",
             region="us-east-1", challenge="nonce=0123456789abcdef0123456789abcdef",
             epochMs=1700000000123),
        # Text around the nonce.
        dict(accessKeyId="AKIDEXAMPLE", secretAccessKey="secret+with/slashes=",
             region="eu-central-1", challenge="realm=keyspaces,nonce=ffffeeeeddddccccbbbbaaaa99998888,x=y",
             epochMs=1591747199999),
        # Millisecond edges around midnight (the scope date changes).
        dict(accessKeyId="AKIDEXAMPLE", secretAccessKey="s", region="ap-southeast-2",
             challenge="nonce=midnight00000000000000000000000", epochMs=1591747200000),
        dict(accessKeyId="AKIDEXAMPLE", secretAccessKey="s", region="ap-southeast-2",
             challenge="nonce=midnight00000000000000000000000", epochMs=1591747200001),
        dict(accessKeyId="AKIDEXAMPLE", secretAccessKey="s", region="us-gov-west-1",
             challenge="nonce=epoch", epochMs=0),
    ]
    for i in range(14):
        c = dict(accessKeyId="AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
                                              for _ in range(16)),
                 secretAccessKey=base64.b64encode(rng.randbytes(30)).decode(),
                 region=rng.choice(["us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1",
                                    "sa-east-1", "ca-central-1"]),
                 challenge="nonce=" + "".join(rng.choice(NONCE_CHARS) for _ in range(32)),
                 epochMs=rng.randrange(946684800000, 4102444800000))
        if i % 2:
            c["sessionToken"] = base64.b64encode(rng.randbytes(rng.randrange(100, 900))).decode()
        out.append(c)
    return out


def plugin_answers(cs):
    r = subprocess.run(["node", str(NODE_DIR / "sigv4_vectors.js")], cwd=NODE_DIR,
                       input=json.dumps(cs), capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def our_answer(c):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "AWS_ACCESS_KEY_ID": c["accessKeyId"],
           "AWS_SECRET_ACCESS_KEY": c["secretAccessKey"]}
    if c.get("sessionToken"):
        env["AWS_SESSION_TOKEN"] = c["sessionToken"]
    r = subprocess.run([str(SIGN), c["region"], c["challenge"], str(c["epochMs"])],
                       env=env, capture_output=True, timeout=10)
    return r.returncode, r.stdout


def test_answers_identical_to_aws_plugin():
    cs = cases()
    theirs = plugin_answers(cs)
    assert len(theirs) == len(cs)
    for c, t in zip(cs, theirs):
        # The initial response both send: "SigV4\0\0".
        assert base64.b64decode(t["initial"]) == b"SigV4\x00\x00"
        rc, ours = our_answer(c)
        assert rc == 0, c
        assert ours == base64.b64decode(t["answer"]), c
        assert (b",session_token=" in ours) == bool(c.get("sessionToken"))


def test_challenge_without_nonce_refused_by_both():
    c = dict(accessKeyId="AKIDEXAMPLE", secretAccessKey="s", region="us-east-1",
             challenge="realm=keyspaces", epochMs=1591742511000)
    (t,) = plugin_answers([c])
    assert "MISSING_NONCE" in t["error"]
    rc, ours = our_answer(c)
    assert rc == 1 and ours == b""
