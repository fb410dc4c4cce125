#!/bin/bash
# Installs the npm packages of tests/package.json (exact versions from
# tests/package-lock.json) into build/npm/node_modules, once: the browser
# tests take playwright-core from there and drive Debian's chromium with it.
# Prints the node_modules directory. No node_modules is ever committed.
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
dest=$BUILD/npm
if ! cmp -s tests/package-lock.json "$dest/package-lock.json" || [[ ! -d $dest/node_modules ]]; then
	mkdir -p "$dest"
	cp tests/package.json tests/package-lock.json "$dest/"
	(cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >&2) || {
		echo "npm-setup: npm ci failed in $dest: the npm registry must be reachable once" >&2
		exit 1
	}
fi
echo "$(cd "$dest" && pwd)/node_modules"
