#!/bin/sh
# mk/deps.sh - install the Debian packages named in the given lists (SPEC §3).
# Idempotent: quick when everything is there; runs apt-get update first only
# when something is missing.  Lists hold one package name a line; # comments.
#
#   mk/deps.sh LIST...           install what is missing (root)
#   mk/deps.sh --check LIST...   print what is missing, install nothing
set -eu
check=
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
# What the installed packages provide: a virtual package such as
# neutron-plugin-ml2 (provided by neutron-common) is never "installed".
provided=$(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null |
	sed -n 's/^ii  *//p' | tr ',' '\n' | sed 's/^ *//; s/ .*//')
missing=
for list in "$@"; do
	for pkg in $(sed 's/#.*//' "$list"); do
		if ! dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null |
		    grep -q '^install ok installed$' &&
		    ! printf '%s\n' "$provided" | grep -qx "$pkg"; then
			missing="$missing $pkg"
		fi
	done
done
if [ -n "$check" ]; then
	echo "$missing"
	exit 0
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages:$missing" >&2
	echo "deps: run 'make deps' as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
