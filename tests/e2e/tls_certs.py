"""A throwaway PKI for TLS tests, made with the `openssl` command.

    pki = make_pki(dirpath)

makes, in dirpath (created if needed), PEM files for

    ca_cert                      a test CA
    server_cert, server_key      signed by ca, SAN DNS:localhost, IP:127.0.0.1
    other_ca_cert                an unrelated CA (a client trusting only it
                                 must refuse server_cert)
    expired_cert, expired_key    signed by ca, same SAN as the server, valid
                                 only in 2020 (entirely in the past)
    wrong_host_cert, wrong_host_key
                                 signed by ca, SAN only DNS:elsewhere.invalid
    client_cert, client_key      signed by ca, for client authentication

and returns a PKI whose attributes of those names are path strings.

Keys are EC P-256 (fast to make; every driver and OpenSSL accept them).
Every certificate carries subject and authority key identifiers and CA
certificates carry keyUsage, so that strict verifiers (Python 3.13's
VERIFY_X509_STRICT) accept them too.

OpenSSL 3.0's `openssl x509 -req` cannot set validity dates in the past, so
the expired certificate is issued by `openssl ca` with -startdate/-enddate
and a minimal configuration written next to it.

A PKI is made once per directory per process: a second make_pki() of the
same directory returns the first result, and session_pki() gives one PKI
for a whole pytest session.
"""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

CURVE = "prime256v1"
VALID_DAYS = 3650
EXPIRED_START = "20200101000000Z"   # openssl ca date format
EXPIRED_END = "20200201000000Z"
SERVER_SAN = "DNS:localhost,IP:127.0.0.1"
WRONG_HOST_SAN = "DNS:elsewhere.invalid"


@dataclass(frozen=True)
class PKI:
    ca_cert: str
    server_cert: str
    server_key: str
    other_ca_cert: str
    expired_cert: str
    expired_key: str
    wrong_host_cert: str
    wrong_host_key: str
    client_cert: str
    client_key: str


_made = {}          # resolved directory -> PKI, for this process
_session = None     # the PKI of session_pki()

_LEAF_EXT = """\
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = {eku}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
{san}
"""

_CA_CONF = """\
[ca]
default_ca = test_ca

[test_ca]
dir = {dir}
database = {dir}/ca-index.txt
new_certs_dir = {dir}/ca-new
serial = {dir}/ca-serial
default_md = sha256
policy = any_name
unique_subject = no
copy_extensions = none
email_in_dn = no

[any_name]
commonName = supplied
"""


def _run(*args, cwd):
    """Run openssl; raise with its output when it fails."""
    r = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed (%d):\n%s" % (
            " ".join(args), r.returncode, r.stdout.decode(errors="replace")))


def _ca(d, name, cn):
    """A self-signed CA: name.pem, name.key."""
    _run("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:" + CURVE, "-nodes", "-sha256",
         "-days", str(VALID_DAYS), "-subj", "/CN=" + cn,
         "-keyout", name + ".key", "-out", name + ".pem",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign",
         "-addext", "subjectKeyIdentifier=hash", cwd=d)


def _csr(d, name, cn):
    """A key and a certificate request: name.key, name.csr."""
    _run("req", "-new", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:" + CURVE, "-nodes", "-sha256",
         "-subj", "/CN=" + cn, "-keyout", name + ".key",
         "-out", name + ".csr", cwd=d)


def _ext(d, name, san, eku):
    """The extensions file of a leaf certificate."""
    path = Path(d) / (name + ".ext")
    path.write_text(_LEAF_EXT.format(
        eku=eku, san="subjectAltName = " + san if san else ""))
    return path.name


def _leaf(d, name, cn, san, eku="serverAuth"):
    """A certificate signed by ca: name.pem, name.key."""
    _csr(d, name, cn)
    _run("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem",
         "-CAkey", "ca.key", "-CAcreateserial", "-sha256",
         "-days", str(VALID_DAYS), "-extfile", _ext(d, name, san, eku),
         "-extensions", "leaf", "-out", name + ".pem", cwd=d)


def _expired_leaf(d, name, cn, san):
    """A certificate signed by ca whose validity is entirely past."""
    _csr(d, name, cn)
    dpath = Path(d)
    (dpath / "ca-new").mkdir(exist_ok=True)
    (dpath / "ca-index.txt").write_text("")
    (dpath / "ca-serial").write_text("1000\n")
    (dpath / "ca.cnf").write_text(_CA_CONF.format(dir=str(dpath)))
    _run("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem",
         "-keyfile", "ca.key", "-in", name + ".csr", "-out", name + ".pem",
         "-startdate", EXPIRED_START, "-enddate", EXPIRED_END,
         "-extfile", _ext(d, name, san, "serverAuth"), "-extensions", "leaf",
         "-notext", cwd=d)


def make_pki(dirpath) -> PKI:
    """Make the test PKI in dirpath (once per directory); see the module."""
    d = Path(dirpath).resolve()
    if d in _made:
        return _made[d]
    d.mkdir(parents=True, exist_ok=True)
    _ca(d, "ca", "cqld test CA")
    _ca(d, "other-ca", "unrelated test CA")
    _leaf(d, "server", "localhost", SERVER_SAN)
    _leaf(d, "wrong-host", "elsewhere.invalid", WRONG_HOST_SAN)
    _leaf(d, "client", "cqld test client", None, eku="clientAuth")
    _expired_leaf(d, "expired", "localhost", SERVER_SAN)
    for key in d.glob("*.key"):
        os.chmod(key, 0o600)
    p = str(d)
    pki = PKI(ca_cert=p + "/ca.pem",
              server_cert=p + "/server.pem", server_key=p + "/server.key",
              other_ca_cert=p + "/other-ca.pem",
              expired_cert=p + "/expired.pem", expired_key=p + "/expired.key",
              wrong_host_cert=p + "/wrong-host.pem",
              wrong_host_key=p + "/wrong-host.key",
              client_cert=p + "/client.pem", client_key=p + "/client.key")
    _made[d] = pki
    return pki


def extra_leaf(pki, name, san):
    """One more server certificate from pki's CA, for SAN san:
    returns (cert, key) paths."""
    d = Path(pki.ca_cert).parent
    if not (d / (name + ".pem")).exists():
        _leaf(d, name, name, san)
        os.chmod(d / (name + ".key"), 0o600)
    return str(d / (name + ".pem")), str(d / (name + ".key"))


def session_pki(tmp_path_factory) -> PKI:
    """One PKI for the whole pytest session (pass tmp_path_factory)."""
    global _session
    if _session is None:
        _session = make_pki(tmp_path_factory.mktemp("pki"))
    return _session
