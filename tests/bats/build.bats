#!/usr/bin/env bats
# build.bats - the build on a machine that lacks packages (SPEC §3): `make`
# stops with one line naming the missing Debian packages and the command
# that installs them, never a screen of pkg-config and compiler errors.

load helpers/common

# tree DIR: a copy of the build files in DIR whose build list names one
# more package, which no machine has
tree() {
	mkdir -p "$1"
	cp -R "$VMTP_ROOT/Makefile" "$VMTP_ROOT/mk" "$VMTP_ROOT/deps" "$VMTP_ROOT/src" "$VMTP_ROOT/share" "$1/"
	echo vmtp-no-such-package >> "$1/deps/build.txt"
}

@test "make without a build package names it and 'make deps', in one line" {
	tree "$BATS_TEST_TMPDIR/t"
	run -2 --separate-stderr make -C "$BATS_TEST_TMPDIR/t" --no-print-directory
	echo "$stderr"
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"missing Debian packages: vmtp-no-such-package; install them with 'make deps' (as root)"* ]]
	[ ! -e "$BATS_TEST_TMPDIR/t/build" ]
}

@test "make deps, clean and the lint targets do not ask for the build packages" {
	tree "$BATS_TEST_TMPDIR/t"
	run -0 make -C "$BATS_TEST_TMPDIR/t" --no-print-directory clean
	run -0 make -C "$BATS_TEST_TMPDIR/t" -n deps
}

@test "a virtual package that an installed one provides is not missing (awk, neutron-plugin-ml2)" {
	printf 'awk\nvmtp-no-such-package\n' > "$BATS_TEST_TMPDIR/list"
	run -0 "$VMTP_ROOT/mk/deps.sh" --check "$BATS_TEST_TMPDIR/list"
	[ "$output" = " vmtp-no-such-package" ]
}
