#!/usr/bin/env bats
# records.bats - the record stream library (SPEC §4) through rec-cat, the
# test driver that passes records on exactly as every program does.

load helpers/common

@test "records are passed on unchanged and in order, unknown types and fields included" {
	printf '%s\n' \
	    '{"type":"run","run":"vmtp-0000abcd","v":1}' \
	    '{"type":"wibble","run":"vmtp-0000abcd","x":{"deep":[1,2.50,1e2]}}' \
	    '{"type":"sample","run":"vmtp-0000abcd","flow":1,"note":"caf\u00e9 ☕","future_field":null}' \
	    > "$BATS_TEST_TMPDIR/in.ndjson"
	run rec-cat "$BATS_TEST_TMPDIR/in.ndjson"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/in.ndjson")" ]
}

@test "several inputs are read in order" {
	printf '{"type":"a","run":"r"}\n' > "$BATS_TEST_TMPDIR/1"
	printf '{"type":"b","run":"r"}\n' > "$BATS_TEST_TMPDIR/2"
	run rec-cat "$BATS_TEST_TMPDIR/1" - "$BATS_TEST_TMPDIR/2" <<< '{"type":"stdin"}'
	[ "$status" -eq 0 ]
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = "a,stdin,b" ]
}

@test "a bad line stops with FILE:LINE and status 65 after the lines before it" {
	printf '%s\n' '{"type":"a"}' '{"type":"b"}' '{"type":' '{"type":"d"}' \
	    > "$BATS_TEST_TMPDIR/bad.ndjson"
	run -65 --separate-stderr rec-cat "$BATS_TEST_TMPDIR/bad.ndjson"
	[ "$(jq -r .type <<< "$output" | paste -sd,)" = "a,b" ]
	[[ "$stderr" == "rec-cat: $BATS_TEST_TMPDIR/bad.ndjson:3: not JSON: "* ]]
	[ "${#stderr_lines[@]}" -eq 1 ]
}

@test "a JSON value that is not an object is refused with its line" {
	run -65 --separate-stderr rec-cat <<< $'{"type":"a"}\n[1,2]'
	[ "$output" = '{"type":"a"}' ]
	[ "$stderr" = "rec-cat: <stdin>:2: not a JSON object" ]
}

@test "a record without a type is refused with its line" {
	run -65 --separate-stderr rec-cat <<< '{"run":"vmtp-00000000"}'
	[ "$stderr" = 'rec-cat: <stdin>:1: record has no "type"' ]
}

@test "two objects on one line are refused" {
	run -65 --separate-stderr rec-cat <<< '{"type":"a"} {"type":"b"}'
	[ -z "$output" ]
	[[ "$stderr" == "rec-cat: <stdin>:1: not JSON: "* ]]
}

@test "invalid UTF-8 is refused with its line" {
	printf '{"type":"a"}\n{"type":"b","s":"\xc3\x28"}\n' > "$BATS_TEST_TMPDIR/u.ndjson"
	run -65 --separate-stderr rec-cat "$BATS_TEST_TMPDIR/u.ndjson"
	[ "$output" = '{"type":"a"}' ]
	[[ "$stderr" == *"u.ndjson:2: "* ]]
}

@test "a 1 MiB line passes through whole" {
	big=$(head -c 1048576 /dev/zero | tr '\0' x)
	printf '{"type":"blob","data":"%s"}\n{"type":"after"}\n' "$big" > "$BATS_TEST_TMPDIR/big.ndjson"
	rec-cat "$BATS_TEST_TMPDIR/big.ndjson" > "$BATS_TEST_TMPDIR/out"
	cmp "$BATS_TEST_TMPDIR/big.ndjson" "$BATS_TEST_TMPDIR/out"
	[ "$(jq -r '.data | length' "$BATS_TEST_TMPDIR/out" | head -1)" -eq 1048576 ]
}

@test "empty input is valid and gives no output" {
	run --separate-stderr rec-cat < /dev/null
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	[ -z "$stderr" ]
}

@test "blank lines carry no record and are ignored" {
	run rec-cat <<< $'\n{"type":"a"}\n   \n\r\n{"type":"b"}\n'
	[ "$status" -eq 0 ]
	[ "$output" = $'{"type":"a"}\n{"type":"b"}' ]
}

@test "a last line without newline gets one" {
	printf '{"type":"a"}' | rec-cat > "$BATS_TEST_TMPDIR/out"
	[ "$(od -An -c "$BATS_TEST_TMPDIR/out" | tr -d ' \n' | tail -c 2)" = '\n' ]
}

@test "an unreadable input is a runtime failure naming the file" {
	run -1 --separate-stderr rec-cat "$BATS_TEST_TMPDIR/missing.ndjson"
	[ "$stderr" = "rec-cat: cannot open $BATS_TEST_TMPDIR/missing.ndjson: No such file or directory" ]
}

@test "written records are compact, one a line, type first" {
	run rec-cat --rewrite <<< $'{"run": "vmtp-0000abcd",   "type": "x",\t"n": 1.5, "s": "a\\u00e9"}'
	[ "$status" -eq 0 ]
	[ "$output" = '{"type":"x","run":"vmtp-0000abcd","n":1.5,"s":"aé"}' ]
}

@test "records stream: each one is out before the input ends" {
	mkfifo "$BATS_TEST_TMPDIR/in"
	rec-cat < "$BATS_TEST_TMPDIR/in" > "$BATS_TEST_TMPDIR/out" &
	pid=$!
	exec {w}> "$BATS_TEST_TMPDIR/in"
	echo '{"type":"first"}' >&"$w"
	for _ in $(seq 50); do
		[ -s "$BATS_TEST_TMPDIR/out" ] && break
		sleep 0.1
	done
	got=$(cat "$BATS_TEST_TMPDIR/out")
	exec {w}>&-
	wait "$pid"
	[ "$got" = '{"type":"first"}' ]
}

@test "a full disk is a runtime failure, not silence" {
	run -1 --separate-stderr sh -c 'rec-cat > /dev/full' <<< '{"type":"a"}'
	[[ "$stderr" == "rec-cat: cannot write output: No space left on device" ]]
}
