#!/bin/sh
test_description='ls-watch: segment interval and checkpoint thresholds'
. "$(dirname "$0")/lib.sh"

walidx() { ls spool/generations/*/wal | cut -c1-8 | sort -u | wc -l; }

test_expect_success 'while writes continue, at most one segment per interval' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	{ ls-watch -i 1s -c 0 -C 0 -T 0 -k 0 -d 3 db spool >names 3>ready & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	t0=$(date +%s.%N) &&
	test-writer db 150 0.02 1 100 >/dev/null &&
	t1=$(date +%s.%N) &&
	kill -TERM $pid && wait $pid &&
	n=$(grep -c /wal/ names) &&
	secs=$(echo "$t0 $t1" | awk "{ printf \"%d\", \$2 - \$1 + 0.999 }") &&
	echo "$n segments for 150 commits over $secs s" &&
	test "$n" -ge 3 &&
	test "$n" -le $((secs + 3)) &&
	ls-restore -o r1.db spool &&
	test "$(sql r1.db "SELECT COUNT(*) FROM w")" = 150
'

test_expect_success 'PASSIVE threshold: a new WAL index after -c pages' '
	rm -rf spool db* && sql db "PRAGMA journal_mode=wal" >/dev/null &&
	{ ls-watch -v -i 0 -c 50 -d 3 db spool >/dev/null 2>err 3>ready & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	test-writer db 40 0.01 5 1000 >/dev/null &&
	kill -TERM $pid && wait $pid &&
	grep -q "info: checkpoint PASSIVE" err &&
	test $(walidx) -ge 2
'

test_expect_success 'TRUNCATE threshold: the WAL file shrinks' '
	rm -rf spool db* && sql db "PRAGMA journal_mode=wal" >/dev/null &&
	{ ls-watch -v -i 0 -c 0 -C 0 -T 100 -d 3 db spool >/dev/null 2>err 3>ready & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	test-writer db 40 0.01 5 1000 >/dev/null &&
	sleep 1.5 &&
	kill -TERM $pid && wait $pid &&
	grep -q "info: checkpoint TRUNCATE" err &&
	size=$(stat -c %s db-wal) &&
	echo "WAL is $size bytes" &&
	test "$size" -lt $((100 * 4120)) &&
	ls-restore -o r3.db spool &&
	test "$(sql r3.db "SELECT COUNT(*) FROM w")" = 200
'

test_expect_success 'idle checkpoint after -k of quiet' '
	rm -rf spool db* && sql db "PRAGMA journal_mode=wal" >/dev/null &&
	{ ls-watch -v -c 0 -C 0 -T 0 -k 1s -d 3 db spool >/dev/null 2>err 3>ready & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	test-writer db 5 0 1 100 >/dev/null &&
	wait_for grep -q "info: checkpoint PASSIVE" err &&
	wait_for has_file "spool/generations/*/wal/00000001_00000000.wal.lz4" &&
	sleep 2.5 &&
	kill -TERM $pid && wait $pid &&
	test $(grep -c "info: checkpoint" err) = 1
'

test_expect_success 'a spilled transaction that rolls back, then a shorter commit' '
	rm -rf spool db* && sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	{ ls-watch -i 0 -d 3 db spool >/dev/null 3>ready & } &&
	pid=$! && test_atexit "kill -9 $pid" &&
	wait_for test -s ready &&
	python3 -c "
import sqlite3, time
c = sqlite3.connect(\"db\", isolation_level=None)
c.execute(\"PRAGMA cache_size=5\")
c.execute(\"BEGIN\")
for i in range(300):
    c.execute(\"INSERT INTO t VALUES (randomblob(1000))\")
time.sleep(0.3)
c.execute(\"ROLLBACK\")
c.execute(\"INSERT INTO t VALUES (1)\")
c.execute(\"INSERT INTO t VALUES (2)\")
" &&
	test $(stat -c %s db-wal) -gt 100000 &&
	sleep 0.3 &&
	ls-restore -o r5.db spool &&
	test "$(sql r5.db "SELECT group_concat(x) FROM t")" = "1,2" &&
	kill -TERM $pid && wait $pid
'

test_done
