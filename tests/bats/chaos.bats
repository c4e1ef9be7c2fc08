#!/usr/bin/env bats
# chaos.bats - crash safety (SPEC §6 "vmtp-cleanup"): bench/chaos on this
# suite's minicloud, three full bin/vmtp runs each with one stage
# (vmtp-provision, vmtp-run, vmtp-collect or bin/vmtp) SIGKILLed at a
# seeded random moment, then `vmtp-cleanup --all`: the cloud as before,
# no journal, no namespace and no process of the run left.  The seed is
# fixed (12: bin/vmtp early, then vmtp-provision, then vmtp-run while
# measuring); VMTP_CHAOS_SEED picks another.  TCP and ICMP only, to stay
# within about three minutes; bench/chaos 20 measures the same with UDP.

load helpers/common
load helpers/minicloud

setup_file() {
	minicloud_up --computes 2 --boot-delay 1 --tenant-routes
}

teardown_file() {
	minicloud_down
}

setup() {
	minicloud_require
	minicloud_user_env
}

@test "bench/chaos 3: SIGKILL of a random stage at a random moment, then vmtp-cleanup --all: nothing left, every time" {
	run "$VMTP_ROOT/bench/chaos" 3 --seed "${VMTP_CHAOS_SEED:-12}" \
		--cloud "$MINICLOUD_DIR" --bounds 10,20,20,20 --protocols TI
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "chaos: seed ${VMTP_CHAOS_SEED:-12}" ]
	[ "$(grep -c '^trial [0-9]*: seed [0-9]*, SIGKILL vmtp[-a-z]* at [0-9.]*s.*: clean$' <<<"$output")" -eq 3 ]
	[ "${lines[-1]}" = "chaos: 3/3 clean" ]
}
