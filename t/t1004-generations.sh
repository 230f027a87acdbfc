#!/bin/sh
test_description='ls-watch: resume, and new generations when continuity is lost'
. "$(dirname "$0")/lib.sh"

dump() { sql "$1" .dump | grep -v _litestream_; }
# gens: ships what is pending, counts the replica's generations.
gens() { ls-ship-file -1 -r 0 spool rep && ls rep/generations | wc -l; }

test_expect_success 'setup' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t(v) VALUES (\"first\")"
'

test_expect_success 'a restart with nothing changed resumes the generation' '
	{ ls-watch -v db spool >out1 2>err1 & } && pid=$! &&
	wait_for has_file 'spool/generations/*/snapshots/00000000.snapshot.lz4' &&
	kill -TERM $pid && wait $pid &&
	grep -q "info: starting a generation: no generation yet" err1 &&
	{ ls-watch -v db spool >out2 2>err2 & } && pid=$! &&
	wait_for grep -q "resuming generation" err2 &&
	kill -TERM $pid && wait $pid &&
	test $(gens) = 1 &&
	! grep warning err2
'

test_expect_success 'writes while it is down (WAL kept) are picked up, same generation' '
	python3 -c "
import sqlite3, subprocess, time
c = sqlite3.connect(\"db\", isolation_level=None)
c.execute(\"INSERT INTO t(v) VALUES (\\\"while down\\\")\")
p = subprocess.Popen([\"ls-watch\", \"-v\", \"db\", \"spool\"], stderr=open(\"err3\", \"w\"))
time.sleep(1)
p.terminate(); p.wait()
" &&
	test $(gens) = 1 &&
	cp spool/generation gen1 &&
	grep -q "resuming generation" err3 &&
	ls-restore -o r3.db rep &&
	test "$(sql r3.db "SELECT v FROM t ORDER BY id DESC LIMIT 1")" = "while down"
'

test_expect_success 'WAL restarted while not running: new generation, says why' '
	python3 -c "
import sqlite3
c = sqlite3.connect(\"db\", isolation_level=None)
c.execute(\"INSERT INTO t(v) VALUES (\\\"before restart\\\")\")
c.execute(\"PRAGMA wal_checkpoint(RESTART)\")
c.execute(\"INSERT INTO t(v) VALUES (\\\"after restart\\\")\")
import subprocess, time
p = subprocess.Popen([\"ls-watch\", \"db\", \"spool\"], stderr=open(\"err4\", \"w\"))
time.sleep(1)
p.terminate(); p.wait()
" &&
	echo "ls-watch: warning: starting a new generation: the WAL was restarted by another process while ls-watch was not running" >expect &&
	test_cmp expect err4 &&
	test $(gens) = 2 &&
	ls-restore -o r4.db rep &&
	dump db >expect && dump r4.db >actual && test_cmp expect actual
'

test_expect_success 'WAL removed while not running: new generation, says why' '
	sql db "INSERT INTO t(v) VALUES (\"last writer closes\")" &&
	test ! -e db-wal &&
	{ ls-watch db spool 2>err5 & } && pid=$! &&
	wait_for has_file 'spool/generations/*/wal/00000000_00000000.wal.lz4' &&
	wait_for eval "test \$(gens) = 3" &&
	sleep 0.2 && kill -TERM $pid && wait $pid &&
	echo "ls-watch: warning: starting a new generation: the WAL was removed or truncated while ls-watch was not running" >expect &&
	test_cmp expect err5 &&
	test $(gens) = 3 &&
	ls-restore -o r5.db rep &&
	dump db >expect && dump r5.db >actual && test_cmp expect actual
'

test_expect_success 'database replaced while running: new generation' '
	sql new.db "PRAGMA journal_mode=wal; CREATE TABLE n(x); INSERT INTO n VALUES (42)" &&
	{ ls-watch db spool 2>err6 & } && pid=$! &&
	wait_for test -f spool/generation && sleep 0.3 &&
	rm -f db-wal db-shm && mv new.db db &&
	wait_for grep -q "the database file was replaced" err6 &&
	sleep 0.3 && kill -TERM $pid && wait $pid &&
	grep "^ls-watch: warning: starting a new generation: the database file was replaced$" err6 &&
	gens >/dev/null && ls-restore -o r6.db rep &&
	test "$(sql r6.db "SELECT x FROM n")" = 42
'

test_expect_success 'the first generation can still be restored by name' '
	first=$(cut -d" " -f1 <gen1) &&
	ls-restore -generation $first -o old.db rep &&
	test "$(sql old.db "SELECT v FROM t ORDER BY id DESC LIMIT 1")" = "while down"
'

test_expect_success 'once shipped, the spool keeps only the current generation' '
	{ ls-watch -d 3 db spool 3>ready & } && pid=$! &&
	wait_for test -s ready &&
	kill -TERM $pid && wait $pid &&
	test "$(ls spool/generations)" = "$(cut -d" " -f1 <spool/generation)"
' 

test_done
