load helpers/common
load helpers/standins
@test x {
	export HOME=$BATS_TEST_TMPDIR/home XDG_STATE_HOME=$BATS_TEST_TMPDIR/state OS_AUTH_URL=http://127.0.0.1:9/v3 OS_PASSWORD=x
	standins_up
	set -m
	STANDIN_CLEANUP_WAIT=1 $VMTP_ROOT/bin/vmtp > $BATS_TEST_TMPDIR/out 2>$BATS_TEST_TMPDIR/err &
	pid=$!
	set +m
	while [ ! -e $STANDIN_REC/cleanup.waiting ]; do sleep 0.1; done
	ps -o pid,pgid,stat,cmd --ppid $pid
	grep -E "SigIgn|SigCgt" /proc/$pid/status
	kill -INT $pid
	sleep 1
	cat $BATS_TEST_TMPDIR/err
	kill -INT $pid
	wait $pid; echo st=$?
	false
}
