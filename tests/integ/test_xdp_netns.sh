#!/bin/bash
# XDP on real packets. Two network namespaces joined by a veth pair: pixeld
# runs in the server one with its filter on the server end (native mode, then
# generic mode); curl in the client one sends from several addresses of its
# end. Checks: requests pass; `pixelctl block` of the client makes its
# requests time out and the denied counter rise, `unblock` restores them; a
# burst of new connections beyond the SYN bucket is dropped and counted while
# a second client address is unaffected; a bot user agent gets its source
# blocked (bot_block = ua+ip); after a crash `pixelctl xdp detach` cleans up.
# Touches no real interface. Needs root. Every wait is bounded.
# Prints "N passed, N failed"; exits 1 when a check failed, 77 when it cannot run.
set -u
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
PIXELD=${PIXELD:-$BUILD/obj/pixeld}
PIXELCTL=${PIXELCTL:-$BUILD/obj/pixelctl}

id=$$
NS_S=pxd-s-$id
NS_C=pxd-c-$id
VETH_S=pxs$id
VETH_C=pxc$id
PIN_DIR=/sys/fs/bpf/pxd-integ-$id
SERVER=10.77.0.1
CLIENT=10.77.0.2      # the blocked and unblocked one
BURSTER=10.77.0.4     # opens more connections than its bucket holds
BYSTANDER=10.77.0.5   # the second address, unaffected by the burst
BOT=10.77.0.6         # sends a bot user agent
PORT=8080
ADMIN=9180
SYN_BURST=5
BROWSER='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36'

pass=0
fail=0
pid=
work=

ok() {
	pass=$((pass + 1))
	echo "ok   - $*"
}

not_ok() {
	fail=$((fail + 1))
	echo "FAIL - $*"
	[[ -n $work && -f $work/pixeld.log ]] && sed 's/^/     | /' "$work/pixeld.log" | tail -n 15
}

check() { # description command...
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

in_server() { timeout 10 nsenter --net="/run/netns/$NS_S" "$@"; }
in_client() { timeout 10 nsenter --net="/run/netns/$NS_C" "$@"; }
pixelctl() { in_server "$PIXELCTL" -c "$work/pixeld.ini" "$@"; }
pixelctl_quiet() { pixelctl "$@" >/dev/null; }

cleanup() {
	if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		{
			kill -KILL "$pid"
			wait "$pid"
		} 2>/dev/null
	fi
	ip netns del "$NS_S" 2>/dev/null
	ip netns del "$NS_C" 2>/dev/null
	if [[ -d $PIN_DIR ]]; then
		rm -f "$PIN_DIR"/* 2>/dev/null
		rmdir "$PIN_DIR" 2>/dev/null
	fi
	[[ -n $work ]] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A skip before any check is "cannot run here" (exit 77; tests/run.sh fails
# it under CI=true); once checks have run it would hide their results, so it
# is a failure.
skip() {
	echo "skip: $*"
	if ((pass + fail > 0)); then
		echo "$pass passed, $((fail + 1)) failed (a skip after checks ran is a failure)"
		exit 1
	fi
	exit 77
}

[[ $(id -u) == 0 ]] || skip "needs root for namespaces and BPF"
for tool in ip nsenter curl python3 timeout; do
	command -v "$tool" >/dev/null || skip "needs $tool"
done
[[ -x $PIXELD && -x $PIXELCTL ]] || skip "build $PIXELD and $PIXELCTL first (make all)"

work=$(mktemp -d /tmp/pxd-xdp-netns.XXXXXX)

# Topology: [NS_S: VETH_S 10.77.0.1] <-> [NS_C: VETH_C 10.77.0.2..6]
ip netns add "$NS_S" && ip netns add "$NS_C" &&
	ip link add "$VETH_S" type veth peer name "$VETH_C" &&
	ip link set "$VETH_S" netns "$NS_S" && ip link set "$VETH_C" netns "$NS_C" &&
	ip -n "$NS_S" addr add "$SERVER/24" dev "$VETH_S" &&
	for a in $CLIENT 10.77.0.3 $BURSTER $BYSTANDER $BOT; do
		ip -n "$NS_C" addr add "$a/24" dev "$VETH_C" || exit 1
	done &&
	ip -n "$NS_S" link set lo up && ip -n "$NS_C" link set lo up &&
	ip -n "$NS_S" link set "$VETH_S" up && ip -n "$NS_C" link set "$VETH_C" up ||
	{ echo "cannot create the namespaces and veth pair"; exit 1; }

write_config() { # mode
	cat >"$work/pixeld.ini" <<EOF
[server]
listen = $SERVER:$PORT
admin_listen = 127.0.0.1:$ADMIN
data_dir = $work/data
threads = 1
max_connections = 1024

[xdp]
interface = $VETH_S
mode = $1
ports = $PORT
syn_rate = 1/m
syn_burst = $SYN_BURST
bot_block = ua+ip
bot_block_ttl = 10m
deny_file = $work/deny.txt
pin_dir = $PIN_DIR

[destination "events"]
type = jsonl
path = events.jsonl
EOF
	printf '# static deny list for the test\n192.0.2.0/24\n' >"$work/deny.txt"
}

# GET a pixel from <src> with user agent <ua>; prints the HTTP status (000: no answer).
fetch() { # src ua
	in_client curl -s -o /dev/null -w '%{http_code}' --connect-timeout 2 -m 3 \
		--interface "$1" -A "$2" "http://$SERVER:$PORT/p.gif?e=PageView&id=xdp-$id" 2>/dev/null
}

counter() { # reason
	pixelctl xdp stats --json | python3 -c '
import json, sys
print(sum(c["packets"] for c in json.load(sys.stdin) if c["reason"] == sys.argv[1]))' "$1"
}

ready_xdp() {
	in_server curl -s -m 2 "http://127.0.0.1:$ADMIN/health/ready" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["xdp"])' 2>/dev/null
}

pixeld_answers() { [[ -n $(ready_xdp) ]]; }

wait_until() { # seconds command...: polls every 0.1 s
	local end=$((SECONDS + $1))
	shift
	while ((SECONDS < end)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

start_pixeld() { # mode
	write_config "$1"
	mkdir -p "$work/data"
	nsenter --net="/run/netns/$NS_S" "$PIXELD" -c "$work/pixeld.ini" >"$work/pixeld.log" 2>&1 &
	pid=$!
	# pixeld settles XDP before it listens: once it answers, the state is final.
	wait_until 15 pixeld_answers || return 1
	state=$(ready_xdp)
	[[ $state == "$1 on $VETH_S" ]] && return 0
	# With xdp_ctl wired in, a configured interface reads "<mode> on <if>" or
	# "failed: <why>", never "off".
	if [[ $state == off ]]; then
		skip "$PIXELD does not start XDP (/health/ready says xdp: off with" \
			"xdp.interface set): wire daemon/xdp/xdp_ctl.c into pixeld"
	fi
	echo "     /health/ready xdp: $state"
	return 1
}

stop_pixeld() {
	kill -TERM "$pid" 2>/dev/null
	wait_until 15 bash -c "! kill -0 $pid 2>/dev/null"
	local rc=$?
	wait "$pid" 2>/dev/null
	pid=
	return $rc
}

attached_on_veth() { ip -n "$NS_S" link show "$VETH_S" | grep -q 'prog/xdp'; }
detached_from_veth() { ! attached_on_veth; }
status_says() { pixelctl xdp status | grep -q "$1"; }
status_fails() { ! pixelctl xdp status >/dev/null; }
blocks_list() { pixelctl blocks | grep -q "$1"; }
metrics_show() {
	in_server curl -s -m 2 "http://127.0.0.1:$ADMIN/metrics" | grep -q "$1"
}

bot_blocked() { # addr: a deny entry of origin bot expiring in about bot_block_ttl (600 s)
	pixelctl blocks --json | python3 -c '
import json, sys
e = [b for b in json.load(sys.stdin) if b["cidr"] == sys.argv[1] + "/32"]
sys.exit(not (e and e[0]["origin"] == "bot" and 590 <= e[0]["expires_in_s"] <= 600))' "$1"
}

scenario() { # mode
	local mode=$1 before after n state

	check "$mode: pixeld attaches in $mode mode and /health/ready says so" start_pixeld "$mode"
	check "$mode: the veth carries an XDP program" attached_on_veth
	check "$mode: pixelctl xdp status reports the attachment" \
		status_says "attached $mode on $VETH_S"
	check "$mode: a request from $CLIENT passes" test "$(fetch $CLIENT "$BROWSER")" = 200
	check "$mode: the static deny list from deny_file is loaded" blocks_list '192.0.2.0/24 *file'

	before=$(counter denied_static)
	check "$mode: pixelctl block $CLIENT" pixelctl_quiet block "$CLIENT"
	check "$mode: requests from $CLIENT now time out" test "$(fetch $CLIENT "$BROWSER")" = 000
	after=$(counter denied_static)
	check "$mode: the denied_static counter rose ($before -> $after)" test "$after" -gt "$before"
	check "$mode: /metrics carries the XDP counters" \
		metrics_show 'pixeld_xdp_packets_total{verdict="drop",reason="denied_static"} [1-9]'
	before=$(counter allowed)
	check "$mode: pixelctl allow $CLIENT" pixelctl_quiet allow "$CLIENT"
	check "$mode: the allow list beats the block" test "$(fetch $CLIENT "$BROWSER")" = 200
	after=$(counter allowed)
	check "$mode: the allowed counter rose ($before -> $after)" test "$after" -gt "$before"
	check "$mode: pixelctl unallow $CLIENT" pixelctl_quiet unallow "$CLIENT"
	check "$mode: pixelctl unblock $CLIENT" pixelctl_quiet unblock "$CLIENT"
	check "$mode: requests from $CLIENT pass again" test "$(fetch $CLIENT "$BROWSER")" = 200

	before=$(counter rate_limited_syn)
	n=0
	for _ in $(seq $((SYN_BURST + 3))); do
		[[ $(fetch $BURSTER "$BROWSER") == 200 ]] && n=$((n + 1))
	done
	after=$(counter rate_limited_syn)
	check "$mode: exactly $SYN_BURST of $((SYN_BURST + 3)) new connections from $BURSTER pass ($n)" \
		test "$n" = "$SYN_BURST"
	check "$mode: the rate_limited_syn counter rose ($before -> $after)" \
		test "$after" -ge $((before + 3))
	check "$mode: $BYSTANDER is unaffected by $BURSTER's burst" \
		test "$(fetch $BYSTANDER "$BROWSER")" = 200

	before=$(counter denied_dynamic)
	fetch $BOT "curl/8.5.0" >/dev/null
	check "$mode: a bot user agent gets $BOT blocked for bot_block_ttl" bot_blocked $BOT
	check "$mode: then even a browser user agent from $BOT times out" \
		test "$(fetch $BOT "$BROWSER")" = 000
	after=$(counter denied_dynamic)
	check "$mode: the denied_dynamic counter rose ($before -> $after)" test "$after" -gt "$before"
	check "$mode: $CLIENT still passes" test "$(fetch $CLIENT "$BROWSER")" = 200

	printf '192.0.2.0/24\n%s\n' "$CLIENT" >"$work/deny.txt"
	kill -HUP "$pid"
	check "$mode: SIGHUP re-reads deny_file" wait_until 5 blocks_list "$CLIENT/32 *file"
	check "$mode: and its new entry drops $CLIENT" test "$(fetch $CLIENT "$BROWSER")" = 000
	printf '192.0.2.0/24\n' >"$work/deny.txt"
	check "$mode: pixelctl lists reload drops the removed entry" pixelctl_quiet lists reload
	check "$mode: $CLIENT passes again" test "$(fetch $CLIENT "$BROWSER")" = 200
}

scenario native
check "native: pixeld stops on SIGTERM" stop_pixeld
check "native: stopping detached the program" detached_from_veth
check "native: stopping removed the pins" test ! -e "$PIN_DIR"

scenario generic
{
	kill -KILL "$pid"
	wait "$pid"
} 2>/dev/null
pid=
check "generic: after a crash the kernel detaches the program (bpf_link)" \
	wait_until 5 detached_from_veth
check "generic: after a crash the pins remain" test -e "$PIN_DIR/deny_v4"
check "generic: pixelctl xdp status says not attached" status_fails
check "generic: pixelctl xdp detach removes the stale pins" pixelctl_quiet xdp detach
check "generic: the pins are gone" test ! -e "$PIN_DIR"

echo "$pass passed, $fail failed"
[[ $fail == 0 ]]
