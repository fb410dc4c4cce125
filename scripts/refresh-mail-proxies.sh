#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# refresh-mail-proxies.sh - regenerates daemon/data/mail_proxies.txt, the rules
# that classify email opens (daemon/email/mail_proxy.c), from source files you
# download first. It fetches nothing itself: the build hosts have no internet,
# and a reviewer should see exactly which files went in (their SHA-256 lands
# in the output's header).
#
# Sources (download each, then pass it with its option):
#   --apple FILE     Apple's iCloud Private Relay egress ranges, which Mail
#                    Privacy Protection fetches through:
#                    https://mask-api.icloud.com/egress-ip-ranges.csv
#                    (CSV, first column a CIDR). Apple's own 17.0.0.0/8 is
#                    always added: MPP prefetches also come from it.
#   --google FILE    Google's own address space: https://www.gstatic.com/ipranges/goog.json
#   --google-cloud FILE  Google Cloud customers' ranges, subtracted from --google so
#                    that a customer VM is not taken for Gmail's image proxy:
#                    https://www.gstatic.com/ipranges/cloud.json
#   --yahoo FILE     Yahoo's ranges, one CIDR per line, e.g. the prefixes its
#                    ASes announce: whois -h whois.radb.net -- '-i origin AS36647'
#                    (also AS26101, AS36646, AS34010), keeping the route: lines.
#   --scanner NAME=FILE  A security vendor's published mail-gateway ranges, one
#                    CIDR per line (repeatable). Where to copy them from:
#                      proofpoint  https://help.proofpoint.com (Essentials: "IP addresses to allow")
#                      mimecast    https://community.mimecast.com (Mimecast "Data Centers and URLs")
#                      barracuda   https://campus.barracuda.com (Email Gateway Defense "IP ranges")
#   --other NAME=FILE  Any other image proxy's ranges, one CIDR per line (repeatable).
#   --note TEXT      A line for the output's header (what this edition is).
#
# User-agent rules are kept in this script (below), since no source publishes
# them as data: GoogleImageProxy ("... (via ggpht.com GoogleImageProxy)"),
# YahooMailProxy ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"),
# and Apple MPP's bare "Mozilla/5.0".
#
# Usage:
#   scripts/refresh-mail-proxies.sh --apple egress-ip-ranges.csv --google goog.json \
#       --google-cloud cloud.json --yahoo yahoo.txt --scanner proofpoint=pp.txt \
#       --scanner mimecast=mc.txt --scanner barracuda=bc.txt > daemon/data/mail_proxies.txt
# then run `make test` (tests/unit/test_mail_proxy.c loads the embedded file).
#
# Needs bash and python3 (standard library only: json, ipaddress, csv).
set -euo pipefail

usage() {
	sed -n '3,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&2
	exit 2
}

apple="" google="" google_cloud="" yahoo="" note=""
scanners=() others=()
while [ $# -gt 0 ]; do
	case "$1" in
	--apple) apple="$2"; shift 2 ;;
	--google) google="$2"; shift 2 ;;
	--google-cloud) google_cloud="$2"; shift 2 ;;
	--yahoo) yahoo="$2"; shift 2 ;;
	--scanner) scanners+=("$2"); shift 2 ;;
	--other) others+=("$2"); shift 2 ;;
	--note) note="$2"; shift 2 ;;
	-h|--help) usage ;;
	*) echo "refresh-mail-proxies: unknown argument '$1'; see --help" >&2; exit 2 ;;
	esac
done
for f in "$apple" "$google" "$google_cloud" "$yahoo"; do
	if [ -n "$f" ] && [ ! -r "$f" ]; then
		echo "refresh-mail-proxies: cannot read '$f'" >&2
		exit 1
	fi
done

exec python3 - "$note" "$apple" "$google" "$google_cloud" "$yahoo" \
	"${#scanners[@]}" ${scanners[@]+"${scanners[@]}"} ${others[@]+"${others[@]}"} <<'PY'
import csv, hashlib, ipaddress, json, sys, textwrap

note, apple, google, google_cloud, yahoo = sys.argv[1:6]
nscan = int(sys.argv[6])
scanners = sys.argv[7:7 + nscan]
others = sys.argv[7 + nscan:]

def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()

def cidr_lines(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if line.startswith("route:") or line.startswith("route6:"):
                line = line.split(":", 1)[1].strip()
            if not line:
                continue
            try:
                out.append(ipaddress.ip_network(line, strict=False))
            except ValueError:
                sys.exit(f"refresh-mail-proxies: {path}:{n}: not a CIDR: {line!r}")
    return out

def google_json(path):
    with open(path) as f:
        doc = json.load(f)
    nets = []
    for p in doc.get("prefixes", []):
        v = p.get("ipv4Prefix") or p.get("ipv6Prefix")
        if v:
            nets.append(ipaddress.ip_network(v))
    return nets

def subtract(nets, minus):
    out = []
    for n in nets:
        parts = [n]
        for m in minus:
            nxt = []
            for p in parts:
                if p.version != m.version or not p.overlaps(m):
                    nxt.append(p)
                elif m.supernet_of(p):
                    continue
                else:
                    nxt.extend(p.address_exclude(m))
            parts = nxt
        out.extend(parts)
    return out

def collapse(nets):
    v4 = ipaddress.collapse_addresses(n for n in nets if n.version == 4)
    v6 = ipaddress.collapse_addresses(n for n in nets if n.version == 6)
    return list(v4) + list(v6)

sections = []
inputs = []

apple_nets = [ipaddress.ip_network("17.0.0.0/8")]
if apple:
    inputs.append(("apple", apple))
    with open(apple, newline="") as f:
        for row in csv.reader(f):
            if row and row[0].strip():
                apple_nets.append(ipaddress.ip_network(row[0].strip(), strict=False))
sections.append(("apple_mpp", "Apple MPP / iCloud Private Relay egress, plus Apple's 17.0.0.0/8",
                 collapse(apple_nets)))

if google:
    inputs.append(("google", google))
    nets = google_json(google)
    if google_cloud:
        inputs.append(("google-cloud", google_cloud))
        nets = subtract(nets, google_json(google_cloud))
    sections.append(("gmail_proxy", "Google's own ranges (goog.json minus cloud.json)",
                     collapse(nets)))

if yahoo:
    inputs.append(("yahoo", yahoo))
    sections.append(("yahoo_proxy", "Yahoo's announced prefixes", collapse(cidr_lines(yahoo))))

for kind, specs in (("scanner", scanners), ("other_proxy", others)):
    for spec in specs:
        name, _, path = spec.partition("=")
        if not path:
            sys.exit(f"refresh-mail-proxies: write NAME=FILE, not {spec!r}")
        inputs.append((name, path))
        sections.append((kind, f"{name} published ranges", collapse(cidr_lines(path))))

w = sys.stdout.write
w("""# mail_proxies.txt - who fetches email open pixels besides the reader's own
# mail client. Read by daemon/email/mail_proxy.c, embedded in the binaries by the
# Makefile. GENERATED by scripts/refresh-mail-proxies.sh: change the script or
# its input files, not this file. See the script for where each source lives.
#
# Format, one rule per line ('#' starts a comment line):
#   ip KIND CIDR        the client address is in CIDR (IPv4 or IPv6; the most
#                       specific prefix wins when prefixes nest)
#   ua-has KIND TEXT    the User-Agent contains TEXT (case-sensitive)
#   ua-is KIND TEXT     the User-Agent is exactly TEXT
# KIND: apple_mpp, gmail_proxy, yahoo_proxy, other_proxy, scanner.
# Address rules decide first, then user-agent rules in file order; no match
# means human. A scanner rule counts only within email.scanner_window of the
# token's issue; later the same fetcher is other_proxy.
#
""")
if note:
    w("".join(f"# {l}\n" for l in textwrap.wrap(note, 76)) + "#\n")
w("# Inputs (SHA-256):\n")
for name, path in inputs:
    w(f"#   {name}: {digest(path)}  {path}\n")
if not inputs:
    w("#   none: built-in rules only\n")
w("""
# User agents (maintained in scripts/refresh-mail-proxies.sh).
# Gmail's image proxy: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
ua-has gmail_proxy GoogleImageProxy
# Yahoo Mail's proxy: "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
ua-has yahoo_proxy YahooMailProxy
# Apple Mail Privacy Protection prefetches send this bare token and nothing else.
ua-is apple_mpp Mozilla/5.0
# Other webmail image proxies name themselves so.
ua-has other_proxy ImageProxy
# Headless browsers detonating mail in a sandbox on delivery.
ua-has scanner HeadlessChrome
""")
for kind, title, nets in sections:
    w(f"\n# {title}\n")
    for n in nets:
        w(f"ip {kind} {n}\n")
PY
