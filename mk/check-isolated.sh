#!/usr/bin/env bash
# mk/check-isolated.sh - every bats file alone, on a machine as after boot,
# then the whole suite with the files in reverse order (make check-isolated).
#
# Before each file it removes what vmtp's code and tests create outside the
# tree, so that a file passes only if it makes what it needs: /run/sshd
# (OpenSSH's privilege-separation directory, there only where an sshd
# service ran; kept when the machine's own sshd is running) and the
# minicloud's CIDR claims (the tests give themselves an empty HOME).
# After each file it checks that no namespace, link or process of the
# tests is left (so run it alone: another run's namespaces count too).
# Ends with "N passed, N failed" over every file's tests.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BATS=${BATS:-bats}
log=$(mktemp -d /tmp/vmtp-isolated.XXXXXX)
trap 'rm -rf "$log"' EXIT

fresh() {
	local pid claim
	pid=$(cat /run/sshd.pid 2>/dev/null)
	if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
		rm -rf /run/sshd
	fi
	# the minicloud's CIDR claims, unless a cloud of another run holds one
	for claim in /tmp/minicloud-claims/*; do
		[ -e "$claim" ] || continue
		[ -e "$(cat "$claim" 2>/dev/null)/ledger" ] && return 0
	done
	rm -rf /tmp/minicloud-claims
}

# What the tests name their namespaces and links: minicloud mcXXXX (a hash
# of the cloud's folder), nshosts vrPID (the suite's pid).  Those of a
# cloud or a suite still alive (another run's) are not leftovers.
live_prefixes() {
	local claim d
	for claim in /tmp/minicloud-claims/*; do
		d=$(cat "$claim" 2>/dev/null) || continue
		[ -e "$d/ledger" ] && printf 'mc%s\n' "$(printf '%s' "$d" | sha1sum | cut -c1-4)"
	done
}
leftovers() {
	local live word pid
	live=$(live_prefixes | sort -u)
	{
		ip netns list | awk '{ print "namespace " $1 }'
		ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print "link " $2 }'
	} | grep -E ' (mc[0-9a-f]{4}|vr[0-9]+)' | while read -r _ word; do
		case $word in
		mc*) printf '%s\n' "$live" | grep -qx "${word:0:6}" && continue ;;
		vr*)
			pid=${word#vr}
			pid=${pid%%[!0-9]*}
			kill -0 "$pid" 2>/dev/null && continue
			;;
		esac
		echo "$word"
	done
}

passed=0 failed=0 bad=
run_bats() { # NAME FILE...
	local name=$1 out start
	shift
	out=$log/$name.tap
	start=$(date +%s)
	local p f left rc
	"$BATS" "$@" >"$out" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then # bats itself failed
		tail -5 "$out"
		f=1
	fi
	left=$(leftovers)
	if [ -n "$left" ]; then
		echo "$name: left behind: $(echo "$left" | tr '\n' ' ')"
		f=$((f + 1))
	fi
	printf '%-32s %3d passed, %d failed, %4d s\n' "$name" "$p" "$f" $(($(date +%s) - start))
	if [ "$f" -gt 0 ]; then
		grep -A12 '^not ok ' "$out" | head -60
		bad="$bad $name"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
}

for f in tests/bats/*.bats; do
	fresh
	run_bats "$(basename "$f")" "$f"
done
fresh
mapfile -t files < <(printf '%s\n' tests/bats/*.bats | sort -r)
run_bats "reverse-order" "${files[@]}"
[ -z "$bad" ] || echo "failed:$bad"
echo "isolated: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
