#!/bin/sh
test_description='ls-watch: readiness, stdout protocol, signals, idle'
. "$(dirname "$0")/lib.sh"

test_expect_success 'setup' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	{ ls-watch -v -d 3 db spool >out 2>err 3>ready & } &&
	echo $! >pid && test_atexit "kill -9 $(cat pid)" &&
	wait_for test -s ready &&
	printf "\n" >expect && test_cmp expect ready
'

test_expect_success 'stdout names every object in the spool, in order' '
	(cd spool && find generations -type f | sort) >files &&
	sort out >names &&
	test_cmp files names &&
	grep -c . out >n && test "$(cat n)" = 2 &&
	sed -n 1p out | grep -qE "^generations/[0-9a-f]{16}/wal/00000000_00000000\.wal\.lz4$" &&
	sed -n 2p out | grep -qE "^generations/[0-9a-f]{16}/snapshots/00000000\.snapshot\.lz4$"
'

test_expect_success 'idle: no wake-ups and no CPU without writes' '
	pid=$(cat pid) &&
	cs() { grep -E "^(voluntary|nonvoluntary)_ctxt_switches" /proc/$pid/status | awk "{s+=\$2} END {print s}"; } &&
	cpu() { awk "{print \$14 + \$15}" /proc/$pid/stat; } &&
	sleep 1.5 &&	# past the interval after the last segment
	a=$(cs) && c1=$(cpu) &&
	sleep 3 &&
	b=$(cs) && c2=$(cpu) &&
	echo "wake-ups in 3 s: $((b - a)), CPU ticks: $((c2 - c1))" &&
	test $((b - a)) -le 1 && test $((c2 - c1)) = 0
'

test_expect_success 'a write is published at once after a quiet spell' '
	sql db "INSERT INTO t VALUES (1)" &&
	wait_for eval "test \$(grep -c . out) = 3" &&
	sed -n 3p out | grep -qE "/wal/00000000_[0-9a-f]{8}\.wal\.lz4$"
'

test_expect_success 'SIGUSR1 takes a snapshot' '
	kill -USR1 $(cat pid) &&
	wait_for eval "test \$(grep -c snapshot out) = 2" &&
	test $(ls spool/generations/*/snapshots | wc -l) -ge 1
'

test_expect_success 'SIGTERM publishes what is committed and exits 0' '
	python3 -c "
import sqlite3, os, signal
c = sqlite3.connect(\"db\", isolation_level=None)
c.execute(\"INSERT INTO t VALUES (2)\")
os.kill($(cat pid), signal.SIGTERM)
" &&
	wait_for eval "! alive $(cat pid)" &&
	wait $(cat pid) 2>/dev/null; 
	ls-restore -o r.db spool &&
	test "$(sql r.db "SELECT group_concat(x) FROM t")" = "1,2"
'

test_expect_success '-i 0 cuts one segment per commit' '
	sql db2 "PRAGMA journal_mode=wal; CREATE TABLE t(x)" &&
	{ ls-watch -i 0 -d 3 db2 spool2 >out2 2>err2 3>ready2 & } &&
	p=$! && test_atexit "kill -9 $p" &&
	wait_for test -s ready2 &&
	python3 -c "
import sqlite3
c = sqlite3.connect(\"db2\", isolation_level=None)
c.execute(\"BEGIN\"); c.execute(\"INSERT INTO t VALUES (1)\"); c.execute(\"COMMIT\")
c.execute(\"BEGIN\"); c.execute(\"INSERT INTO t VALUES (2)\"); c.execute(\"COMMIT\")
c.execute(\"BEGIN\"); c.execute(\"INSERT INTO t VALUES (3)\"); c.execute(\"COMMIT\")
" &&
	kill -TERM $p && wait $p &&
	test $(grep -c "/wal/" out2) = 4
'

test_done
