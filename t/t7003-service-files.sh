#!/bin/sh
test_description='examples/: the systemd unit verifies, the run script runs'
. "$(dirname "$0")/lib.sh"

command -v systemd-analyze >/dev/null 2>&1 && test_set_prereq SYSTEMD

test_expect_success SYSTEMD 'the systemd unit passes systemd-analyze verify' '
	sed "s|/usr/local/bin/ls-replicate|$TOP/ls-replicate|" \
		"$TOP/examples/ls-replicate.service" >ls-replicate.service &&
	mkdir -p mp/man1 mp/man5 &&
	cp "$TOP"/man/*.1 mp/man1/ && cp "$TOP"/man/*.5 mp/man5/ &&
	MANPATH=$PWD/mp systemd-analyze verify ./ls-replicate.service >out 2>&1;
	rc=$?; cat out;
	test $rc = 0 && ! grep -q . out
'

test_expect_success 'the example config checks out' '
	ls-replicate -n -config "$TOP/examples/ls.conf" >out &&
	echo "configuration OK" >expect && test_cmp expect out
'

test_expect_success 'the run script: ready on fd 3, stops cleanly on SIGTERM' '
	test "$(cat "$TOP/examples/notification-fd")" = 3 &&
	sql app.db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	printf "[db]\npath = %s/app.db\n[replica]\npath = %s/backup\n" "$PWD" "$PWD" >ls.conf &&
	{ LS_CONFIG=$PWD/ls.conf "$TOP/examples/run" 3>ready >log & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	sql app.db "INSERT INTO t VALUES (42)" &&
	kill -TERM $pid && wait $pid &&
	ls-restore -o r.db backup &&
	test "$(sql r.db "SELECT x FROM t")" = 42
'

test_done
