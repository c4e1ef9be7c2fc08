#!/usr/bin/env bats
# mesh.bats - mesh mode (issue 17): the rounds of a mesh of N hosts
# (libvmtp/mesh.h, through tests/tools/mesh-dump).

load helpers/common

@test "mesh rounds: every pair once, no host twice in a round, N-1 rounds (N for odd N)" {
	for n in 2 3 4 5 6 7 8 9 16 17 63 64; do
		"$VMTP_TOOLS/mesh-dump" "$n" > "$BATS_TEST_TMPDIR/rounds"
		awk -v n="$n" '
			NR == 1 { rounds = $2; next }
			{
				if ($1 < 1 || $1 > rounds || $2 < 0 || $3 >= n || $2 >= $3) bad = "bad line " $0
				if (seen[$2, $3]++) bad = "pair twice: " $2 " " $3
				if (busy[$1, $2]++ || busy[$1, $3]++) bad = "host twice in round " $1
				pairs++; used[$1]++
			}
			END {
				want = n % 2 == 0 ? n - 1 : n
				if (rounds != want) bad = "rounds " rounds " not " want
				if (pairs != n * (n - 1) / 2) bad = "pairs " pairs
				for (r = 1; r <= rounds; r++)
					if (used[r] != int(n / 2)) bad = "round " r " has " used[r] " pairs"
				if (bad != "") { print "N=" n ": " bad; exit 1 }
			}' "$BATS_TEST_TMPDIR/rounds"
	done
}

@test "mesh rounds: fewer than two hosts have none" {
	run -0 "$VMTP_TOOLS/mesh-dump" 1
	[ "$output" = "rounds 0" ]
	run -0 "$VMTP_TOOLS/mesh-dump" 0
	[ "$output" = "rounds 0" ]
}
