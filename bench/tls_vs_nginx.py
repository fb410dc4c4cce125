#!/usr/bin/env python3
"""bench/tls_vs_nginx.py: pixeld's HTTPS listener against nginx serving
empty_gif over TLS, in the same run, with the same certificate (ECDSA P-256),
the same protocols, ciphers and groups, one nginx worker and one pixeld ingest
thread both pinned to CPU 0, pixelload (--tls) pinned to CPU 1. Three loads
per server: keep-alive pixel GETs (server CPU us per request), a new
connection per request (full handshakes/s) and a new connection per request
resuming with the last ticket (resumed handshakes/s).

Usage: bench/tls_vs_nginx.py [-d SECONDS] [--write]   (--write puts the table
into bench/RESULTS.md between the tls markers). Needs build/obj/pixeld and
build/obj/pixelload (make all), nginx, openssl, taskset."""

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
PIXELD = os.path.join(BUILD, "obj", "pixeld")
PIXELLOAD = os.path.join(BUILD, "obj", "pixelload")
RESULTS = os.path.join(ROOT, "bench", "RESULTS.md")
BEGIN, END = "<!-- tls:begin (bench/tls_vs_nginx.py --write rewrites this part) -->", "<!-- tls:end -->"
SERVER_CPU, LOAD_CPU = "0", "1"
HOST = "t.bench.example"
# The profile of daemon/tls/tls_store.c, given to nginx word for word.
CIPHERS12 = ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
             "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305")
CIPHERS13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
LOADS = [
    ("keepalive", "keep-alive pixel GET", ["--tls", "-c", "64"]),
    ("full", "new connection per request, full handshake", ["--tls", "--new-conn", "-c", "64"]),
    ("resumed", "new connection per request, ticket resumption", ["--tls-resume", "--new-conn", "-c", "64"]),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, every thread


def wait_tls(port, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("bench/tls_vs_nginx: nothing listens on %d" % port)


def make_cert(d):
    key, cert = os.path.join(d, "t.key"), os.path.join(d, "t.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=" + HOST,
                    "-addext", "subjectAltName=DNS:" + HOST], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def start_nginx(d, port, cert, key):
    os.makedirs(os.path.join(d, "nginx", "logs"), exist_ok=True)
    conf = os.path.join(d, "nginx", "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1;
daemon off;
master_process on;
pid %(d)s/nginx/nginx.pid;
error_log %(d)s/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
	access_log %(d)s/nginx/logs/access.log combined buffer=64k flush=1s;
	keepalive_requests 100000000;
	keepalive_timeout 600s;
	server {
		listen 127.0.0.1:%(port)d ssl backlog=4096;
		ssl_certificate %(cert)s;
		ssl_certificate_key %(key)s;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_ciphers %(c12)s;
		ssl_conf_command Ciphersuites %(c13)s;
		ssl_prefer_server_ciphers on;
		ssl_ecdh_curve X25519:prime256v1:secp384r1;
		ssl_session_cache off;
		ssl_session_tickets on;
		location = /p.gif { empty_gif; add_header Cache-Control no-store; }
	}
}
""" % dict(d=d, port=port, cert=cert, key=key, c12=CIPHERS12, c13=CIPHERS13))
    master = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-p", os.path.join(d, "nginx"), "-e",
                               os.path.join(d, "nginx", "logs", "error.log"), "-c", conf])
    wait_tls(port)
    with open("/proc/%d/task/%d/children" % (master.pid, master.pid)) as f:
        worker = int(f.read().split()[0])  # its CPU is the worker's: the master only supervises
    return master, worker


def start_pixeld(d, port, cert, key):
    ini = os.path.join(d, "pixeld.ini")
    with open(ini, "w") as f:
        f.write("[server]\nlisten = 127.0.0.1:%d\nadmin_listen = 127.0.0.1:%d\ntls_listen = 127.0.0.1:%d\n"
                "data_dir = %s/pixeld\nthreads = 1\ndispatchers = 1\nmax_connections = 4096\n"
                "idle_timeout = 10m\nlog_level = warn\n[certificate \"bench\"]\ncert = %s\nkey = %s\n"
                "hosts = %s\n[destination \"events\"]\ntype = jsonl\npath = events.jsonl\n"
                % (free_port(), free_port(), port, d, cert, key, HOST))
    p = subprocess.Popen(["taskset", "-c", SERVER_CPU, PIXELD, "-c", ini],
                         stderr=open(os.path.join(d, "pixeld.log"), "w"))
    wait_tls(port)
    return p, p.pid


def run_load(d, server, pid, port, name, args, seconds):
    out = os.path.join(d, "%s.%s.json" % (server, name))
    t0 = cpu_ticks(pid)
    r = subprocess.run(["taskset", "-c", LOAD_CPU, PIXELLOAD, "-q", "--host", HOST, "-d", str(seconds),
                        "--json", out, *args, "127.0.0.1:%d" % port], capture_output=True, text=True)
    cpu_s = (cpu_ticks(pid) - t0) / os.sysconf("SC_CLK_TCK")
    if r.returncode not in (0, 3):
        raise SystemExit("bench/tls_vs_nginx: pixelload against %s failed:\n%s" % (server, r.stderr))
    with open(out) as f:
        j = json.load(f)
    t = j["totals"]
    ok = t["ok_2xx"]
    return {"ok_per_s": t["ok_per_s"], "ok": ok, "failed": t["failed"],
            "cpu_us_per_request": cpu_s * 1e6 / ok if ok else None,
            "handshakes": j["tls"]["handshakes"], "resumed": j["tls"]["resumed"]}


def table(res, seconds, cmd):
    x = lambda a, b: "%.2fx" % (a / b) if a and b else "n/a"
    lines = [BEGIN, "## pixeld HTTPS vs nginx TLS empty_gif (bench/tls_vs_nginx.py)", "",
             "- Command: `%s` (after `make all`)" % cmd,
             "- Date: %s; machine: `nproc` %d, `uname -r` %s, load average before the run %.1f "
             "(a shared build machine: compare the ratios, not the absolute figures)"
             % (time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.cpu_count(), platform.release(),
                os.getloadavg()[0]),
             "- Same ECDSA P-256 certificate, TLS 1.2+1.3, the same cipher list, suites and groups, session "
             "cache off, tickets on; nginx 1 worker, pixeld 1 ingest thread (+ its dispatcher, journal and "
             "JSONL sink), both on CPU %s; pixelload on CPU %s, %d s per load; TLS 1.3 negotiated."
             % (SERVER_CPU, LOAD_CPU, seconds), "",
             "| load | figure | nginx | pixeld | pixeld / nginx |", "|---|---|---:|---:|---:|"]
    for name, label, _ in LOADS:
        n, p = res["nginx"][name], res["pixeld"][name]
        lines.append("| %s | requests/s | %.0f | %.0f | %s |" % (label, n["ok_per_s"], p["ok_per_s"],
                                                              x(p["ok_per_s"], n["ok_per_s"])))
        lines.append("| %s | server CPU us/request | %.1f | %.1f | %s |" % (
            label, n["cpu_us_per_request"] or 0, p["cpu_us_per_request"] or 0,
            x(p["cpu_us_per_request"], n["cpu_us_per_request"])))
        if name == "resumed":
            lines.append("| %s | handshakes resumed | %d of %d | %d of %d | |" % (
                label, n["resumed"], n["handshakes"], p["resumed"], p["handshakes"]))
    lines += ["", "Reading it: requests/s on the new-connection rows are handshakes/s (one request per "
              "connection), in a closed loop of 64 connections: pixeld answers a pixel only once its event "
              "is written to the journal (nginx writes nothing), so its rate is partly latency-bound and "
              "the server CPU per request is the figure to compare. Goals (issue 14): keep-alive "
              "CPU/request <= nginx's (ratio <= 1), full and resumed handshakes/s >= nginx's (ratio >= 1).",
              END]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-d", type=int, default=10)
    ap.add_argument("--write", action="store_true")
    a = ap.parse_args()
    for tool in ("nginx", "openssl", "taskset"):
        if not shutil.which(tool):
            raise SystemExit("bench/tls_vs_nginx: %s is missing; run make deps" % tool)
    d = tempfile.mkdtemp(prefix="pixeld-tls-bench-")
    cert, key = make_cert(d)
    res = {"nginx": {}, "pixeld": {}}
    procs = []
    try:
        servers = {}
        for server, start in (("nginx", start_nginx), ("pixeld", start_pixeld)):
            port = free_port()
            proc, pid = start(d, port, cert, key)
            procs.append(proc)
            servers[server] = (pid, port)
        # Interleaved, so a burst of other work on the machine hits both alike.
        for name, _, args in LOADS:
            for server, (pid, port) in servers.items():
                res[server][name] = run_load(d, server, pid, port, name, args, a.d)
        cmd = "bench/tls_vs_nginx.py -d %d%s" % (a.d, " --write" if a.write else "")
        out = table(res, a.d, cmd)
        print(out)
        with open(os.path.join(ROOT, "bench", "results", "tls_vs_nginx.json"), "w") as f:
            json.dump(res, f, indent=1)
        if a.write:
            with open(RESULTS) as f:
                text = f.read()
            if BEGIN in text:
                text = text[:text.index(BEGIN)] + out + text[text.index(END) + len(END):]
            else:
                text = text.rstrip("\n") + "\n\n" + out + "\n"
            with open(RESULTS, "w") as f:
                f.write(text)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
