#!/bin/sh
# The Debian package's postrm. On purge the data directory goes only when it
# is empty: it holds the journal, and events pixeld accepted are never thrown
# away by a package operation. The pixeld user stays (Debian's practice: its
# uid may still own files). DPKG_ROOT as in scripts/pixeld-user.sh.
set -eu

if [ "${1:-}" = purge ]; then
	rmdir "${DPKG_ROOT:-}/var/lib/pixeld" 2>/dev/null || true
fi
