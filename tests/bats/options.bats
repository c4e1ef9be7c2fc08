#!/usr/bin/env bats
# options.bats - every program's options as the user meets them (SPEC §6,
# STYLE: Command line, Man pages): --help, the man page's SYNOPSIS and its
# list of options name the same options; help and usage errors leave
# through the program's exit path (a full disk is exit 1).

load helpers/common

PROGRAMS="vmtp-provision vmtp-run vmtp-collect vmtp-chart vmtp-cleanup"

# The spellings (-x, --name) of the option words on stdin, one a line: a
# word of one dash and several letters is a bundle of short options.
spellings() {
	grep -oE -- '(^|[][ |,])--?[[:alnum:]][[:alnum:]_-]*' | sed 's/^[][ |,]//' |
		awk '/^--/ || length($0) == 2 { print; next }
			{ for (i = 2; i <= length($0); i++) print "-" substr($0, i, 1) }'
}

# help_options PROG: one line per option line of --help (after the
# synopsis and its blank line), its spellings separated by spaces
help_options() {
	"$1" --help | sed '1,/^$/d' | grep -E '^ +-' |
		sed -E 's/^ +//; s/  .*//' | while read -r names; do
		spellings <<<"$names" | paste -sd ' ' -
	done
}

# help_synopsis PROG: the spellings of --help's usage lines
help_synopsis() {
	"$1" --help | sed '/^$/,$d' | spellings | sort -u
}

# man_flags SECTION PAGE [ONLY-IT]: the spellings after Fl in the mdoc
# source of SECTION (of its .It lines only, with ONLY-IT), one a line
man_flags() {
	awk -v sec="$1" -v only_it="${3:-}" '
		/^\.Sh / { in_sec = ($2 == sec); next }
		!in_sec { next }
		only_it && !/^\.It Fl/ { next }
		{
			fl = 0
			for (i = 1; i <= NF; i++) {
				w = $i
				if (w == "Fl" || w == ".Fl") { fl = 1; continue }
				if (w ~ /^[A-Z][a-z]$/ || w ~ /^\.[A-Z][a-z]$/) { fl = 0; continue }
				if (!fl || w == "," || w == "|") continue
				if (w ~ /^-/) print "-" w
				else if (length(w) == 1) print "-" w
				else for (k = 1; k <= length(w); k++) print "-" substr(w, k, 1)
			}
		}' "$2" | sort -u
}

# man_options PAGE: the spellings of its list of options: the OPTIONS
# section, or DESCRIPTION when the page has none
man_options() {
	if grep -q '^\.Sh OPTIONS' "$1"; then
		man_flags OPTIONS "$1" it
	else
		man_flags DESCRIPTION "$1" it
	fi
}

@test "--help, the man page's SYNOPSIS and its list of options name the same options" {
	bad=""
	for p in $PROGRAMS; do
		page="$VMTP_ROOT/man/$p.1"
		help_options "$p" >"$BATS_TEST_TMPDIR/groups"
		[ "$(wc -l <"$BATS_TEST_TMPDIR/groups")" -gt 5 ]
		tr ' ' '\n' <"$BATS_TEST_TMPDIR/groups" | sort -u >"$BATS_TEST_TMPDIR/help"
		man_options "$page" >"$BATS_TEST_TMPDIR/man"
		man_flags SYNOPSIS "$page" >"$BATS_TEST_TMPDIR/syn"
		help_synopsis "$p" >"$BATS_TEST_TMPDIR/usage"
		for o in $(comm -23 "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/man"); do
			bad+="$p: $o is in --help, not in the options of $p(1)"$'\n'
		done
		for o in $(comm -13 "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/man"); do
			bad+="$p: $o is in the options of $p(1), not in --help"$'\n'
		done
		for o in $(comm -3 "$BATS_TEST_TMPDIR/syn" "$BATS_TEST_TMPDIR/usage" | tr -d '\t'); do
			bad+="$p: $o is in one of --help's usage and the SYNOPSIS of $p(1) only"$'\n'
		done
		for o in $(comm -23 "$BATS_TEST_TMPDIR/syn" "$BATS_TEST_TMPDIR/help"); do
			bad+="$p: $o is in the SYNOPSIS of $p(1), not an option of --help"$'\n'
		done
		while read -r names; do
			found=""
			for o in $names; do
				grep -qxe "$o" "$BATS_TEST_TMPDIR/syn" && found=1
			done
			[ -n "$found" ] || bad+="$p: $names is not in the SYNOPSIS of $p(1)"$'\n'
		done <"$BATS_TEST_TMPDIR/groups"
		for o in -h --version; do
			grep -qxe "$o" "$BATS_TEST_TMPDIR/syn" || bad+="$p: the SYNOPSIS lacks $o"$'\n'
		done
	done
	printf '%s' "$bad" >&2
	[ -z "$bad" ]
}

@test "bin/vmtp: --help and the OPTIONS of vmtp(1) name the same options" {
	# --help: the option words of each option line (its first 36
	# columns: the description starts after them); vmtp has no bundles
	"$VMTP_BIN/vmtp" --help | sed '1,/^$/d' | grep -E '^  -' | cut -c1-36 |
		grep -oE -- '(^|[ ,|])--?[a-z][a-z_-]*' | sed 's/^[ ,|]//' |
		sort -u >"$BATS_TEST_TMPDIR/help"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/help")" -gt 40 ]
	# the page: the words after Fl on its .It lines of OPTIONS
	awk '/^\.Sh / { in_sec = ($2 == "OPTIONS"); next }
		in_sec && /^\.It Fl/ {
			for (i = 1; i < NF; i++)
				if ($i == "Fl") print "-" $(i + 1)
		}' "$VMTP_ROOT/man/vmtp.1" | sort -u >"$BATS_TEST_TMPDIR/man"
	diff "$BATS_TEST_TMPDIR/help" "$BATS_TEST_TMPDIR/man"
}

@test "--help and --version to a full disk: exit 1 naming the write error" {
	for p in $PROGRAMS; do
		for o in --help --version; do
			run -1 --separate-stderr sh -c '"$1" "$2" >/dev/full' sh "$p" "$o"
			[ "$stderr" = "$p: cannot write output: No space left on device" ]
		done
	done
	run -1 --separate-stderr sh -c 'vmtp-provision --show-config >/dev/full'
	[ "$stderr" = "vmtp-provision: cannot write output: No space left on device" ]
}

@test "a wrong option is named once, then the synopsis; status 2" {
	for p in $PROGRAMS; do
		run -2 --separate-stderr "$p" --no-such-option
		[ "${stderr_lines[0]}" = "$p: unknown option '--no-such-option'" ]
		[[ "${stderr_lines[1]}" == "usage: $p "* ]]
		[ -z "$output" ]
		run -2 --separate-stderr "$p" -Z
		[ "${stderr_lines[0]}" = "$p: unknown option '-Z'" ]
		run -2 --separate-stderr "$p" --help=yes
		[ "${stderr_lines[0]}" = "$p: option '--help' takes no value" ]
		run -2 --separate-stderr "$p" -c
		[ "${stderr_lines[0]}" = "$p: option '-c' needs a value" ] ||
			[ "$p" = vmtp-chart ] || [ "$p" = vmtp-cleanup ]
	done
	run -2 --separate-stderr vmtp-run --ssh
	[ "${stderr_lines[0]}" = "vmtp-run: option '--ssh' is ambiguous" ]
	run -2 --separate-stderr vmtp-chart --title
	[ "${stderr_lines[0]}" = "vmtp-chart: option '--title' needs a value" ]
}

@test "each message line goes to stderr in one write, so that lines of programs sharing a terminal or log never mix" {
	for p in $PROGRAMS; do
		strace -f -s 512 -e trace=write -o "$BATS_TEST_TMPDIR/st" "$p" --no-such-option </dev/null >/dev/null 2>&1 || true
		# the message and the usage after it: every write to stderr ends a line
		grep 'write(2, "' "$BATS_TEST_TMPDIR/st" >"$BATS_TEST_TMPDIR/w"
		[ "$(grep -c . "$BATS_TEST_TMPDIR/w")" -ge 1 ]
		grep -q "write(2, \"$p: unknown option '--no-such-option'\\\\n\"" "$BATS_TEST_TMPDIR/w" || {
			cat "$BATS_TEST_TMPDIR/w"
			false
		}
	done
}
