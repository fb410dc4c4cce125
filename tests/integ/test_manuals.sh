#!/bin/bash
# The manuals: pixeld(8) and pixelctl(8) from scripts/man/, pixeld.ini(5) written
# from README.md by scripts/man-ini.py, each clean under `mandoc -T lint`
# (warnings and worse; "referenced manual not found" is a style note about
# pages not installed here) and rendered by `man -l` with groff's warnings on
# and none printed. Every key of scripts/pixeld.ini.example is in
# pixeld.ini(5), and every pixelctl command of `pixelctl help` in pixelctl(8).
# Prints "N passed, N failed" last; exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

BUILD=${BUILD:-build}
for t in mandoc man python3; do
	command -v "$t" >/dev/null || { echo "test_manuals: $t is missing: make deps"; exit 1; }
done
WORK=$(mktemp -d /tmp/pixeld-man.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=tests/integ/lib.sh
. tests/integ/lib.sh

if scripts/man-ini.py README.md >"$WORK/pixeld.ini.5"; then
	ok "scripts/man-ini.py writes pixeld.ini(5) from README.md"
else
	bad "scripts/man-ini.py failed"
fi
for page in scripts/man/pixeld.8 scripts/man/pixelctl.8 "$WORK/pixeld.ini.5"; do
	name=${page##*/}
	if mandoc -T lint -W warning "$page" >"$WORK/lint" 2>&1; then
		ok "mandoc -T lint $name"
	else
		bad "mandoc -T lint $name:"
		cat "$WORK/lint"
	fi
	MANWIDTH=80 man --warnings -l "$page" >"$WORK/out" 2>"$WORK/err"
	if [[ $? == 0 && ! -s $WORK/err ]] && grep -q NAME "$WORK/out"; then
		ok "man -l $name renders without warnings ($(wc -l <"$WORK/out") lines)"
	else
		bad "man -l $name:"
		cat "$WORK/err"
	fi
done

missing=""
keys=0
while read -r key; do
	keys=$((keys + 1))
	section=${key%%.*}
	name=${key#*.}
	case $section in
	server | journal | email) grep -qx "\.It $key" "$WORK/pixeld.ini.5" || missing+=" $key" ;;
	*) grep -qF ".It \\fB$name\\fR" "$WORK/pixeld.ini.5" || missing+=" $key" ;;
	esac
done < <(awk '/^\[/ { s = $1; gsub(/[][]/, "", s) } /^[a-z_]+ =/ { print s "." $1 }' scripts/pixeld.ini.example)
if [[ $keys -gt 10 && -z $missing ]]; then
	ok "all $keys keys of pixeld.ini.example are in pixeld.ini(5)"
else
	bad "pixeld.ini(5) lacks:$missing (of $keys keys): document them in README.md's tables"
fi

if [[ -x $BUILD/obj/pixelctl ]]; then
	missing=""
	for cmd in $("$BUILD/obj/pixelctl" help 2>&1 | awk '/^  [a-z]/ { print $1 }' | sort -u); do
		grep -qE "Cm $cmd( |$)" scripts/man/pixelctl.8 || missing+=" $cmd"
	done
	if [[ -z $missing ]]; then ok "every pixelctl command is in pixelctl(8)"; else bad "pixelctl(8) lacks:$missing"; fi
else
	bad "$BUILD/obj/pixelctl is missing: run make first"
fi

finish
