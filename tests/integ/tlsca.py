"""A throw-away certificate authority for the TLS tests, made with the
openssl CLI: a CA, then certificates for given names with any validity
window (past, present or future), keys written mode 600."""

import base64
import os
import subprocess
import time

CA_CONF = """[ca]
default_ca = test
[test]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/issued
serial = {dir}/serial
certificate = {dir}/ca.pem
private_key = {dir}/ca.key
default_md = sha256
policy = anything
copy_extensions = none
unique_subject = no
[anything]
commonName = supplied
"""


def openssl(*args, cwd=None):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def asn1_time(t):
    return time.strftime("%Y%m%d%H%M%SZ", time.gmtime(t))


class TestCA:
    def __init__(self, directory):
        self.dir = directory
        os.makedirs(os.path.join(directory, "issued"), exist_ok=True)
        open(os.path.join(directory, "index.txt"), "w").close()
        with open(os.path.join(directory, "serial"), "w") as f:
            f.write("1000\n")
        self.conf = os.path.join(directory, "ca.cnf")
        with open(self.conf, "w") as f:
            f.write(CA_CONF.format(dir=directory))
        self.pem = os.path.join(directory, "ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", os.path.join(directory, "ca.key"), "-out", self.pem, "-days", "30",
                "-subj", "/CN=pixeld test CA")

    def issue(self, name, dns, not_before=None, not_after=None, key=None):
        """Writes NAME.pem (signed for the DNS names) and NAME.key (new, or a copy of
        <key>'s file); returns (cert path, key path)."""
        now = time.time()
        not_before = now - 3600 if not_before is None else not_before
        not_after = now + 7 * 86400 if not_after is None else not_after
        cert = os.path.join(self.dir, name + ".pem")
        keyfile = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=" + ",".join("DNS:" + d for d in dns) + "\n")
        if key:
            with open(key, "rb") as src, open(keyfile, "wb") as dst:
                dst.write(src.read())
            openssl("req", "-new", "-key", keyfile, "-out", csr, "-subj", "/CN=" + dns[0])
        else:
            openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", keyfile, "-out", csr, "-subj", "/CN=" + dns[0])
        os.chmod(keyfile, 0o600)
        openssl("ca", "-batch", "-config", self.conf, "-in", csr, "-out", cert, "-notext",
                "-startdate", asn1_time(not_before), "-enddate", asn1_time(not_after),
                "-extfile", ext)
        return cert, keyfile

    @staticmethod
    def spki_sha256(cert):
        """The base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's
        --ignore-certificate-errors-spki-list)."""
        pub = openssl("x509", "-in", cert, "-pubkey", "-noout")
        der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub.encode(),
                             capture_output=True, check=True, timeout=30).stdout
        digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"], input=der,
                                capture_output=True, check=True, timeout=30).stdout
        return base64.b64encode(digest).decode()

    @staticmethod
    def serial(cert):
        return openssl("x509", "-in", cert, "-noout", "-serial").strip().split("=", 1)[1]
