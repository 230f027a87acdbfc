#!/bin/sh
test_description='a replica ls-watch | ls-ship-file wrote restores with Litestream v0.3.13'
. "$(dirname "$0")/lib.sh"

litestream_setup

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
batch() {
	python3 -c "
import sqlite3, os
c = sqlite3.connect(\"db\", isolation_level=None, timeout=30)
for i in range($2):
    c.execute(\"INSERT INTO t(batch, pad) VALUES (?, ?)\", ($1, os.urandom(800)))
"
}

test_expect_success LITESTREAM 'setup: two generations, several WAL indexes' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, pad BLOB)" >/dev/null &&
	start_pipeline "-i 50ms -c 100 db spool" "-r 0 spool rep" &&
	batch 1 300 && sleep 0.3 && batch 2 300 && sleep 0.3 &&
	stop_pipeline &&
	sql db "PRAGMA wal_checkpoint(TRUNCATE); INSERT INTO t(batch) VALUES (3)" >/dev/null &&
	start_pipeline "-i 50ms -c 100 db spool" "-r 0 spool rep" &&
	batch 4 300 && sleep 0.5 && now >ts && sleep 0.5 && batch 5 300 && sleep 0.3 &&
	stop_pipeline &&
	test $(ls rep/generations | wc -l) = 2 &&
	test $(ls rep/generations/*/wal | cut -c1-8 | sort -u | wc -l) -ge 4
'

test_expect_success LITESTREAM 'litestream restore: the latest state' '
	"$LITESTREAM" restore -o lt.db "file://$PWD/rep" 2>lt.err &&
	test "$(sql lt.db "PRAGMA integrity_check")" = ok &&
	test "$(dump lt.db)" = "$(dump db)" &&
	test "$(sql lt.db "SELECT COUNT(*) FROM t")" = 1201
'

test_expect_success LITESTREAM 'litestream restore: at a timestamp' '
	"$LITESTREAM" restore -timestamp "$(cat ts)" -o lt-ts.db "file://$PWD/rep" 2>lt.err &&
	test "$(sql lt-ts.db "SELECT COUNT(*), MAX(batch) FROM t")" = "901|4"
'

test_expect_success LITESTREAM 'litestream restore: the older generation by name' '
	for g in $(ls rep/generations); do
		test -f rep/generations/$g/snapshots/00000000.snapshot.lz4 || exit 1
	done &&
	g1=$(for g in $(ls rep/generations); do
		test "$g" = "$(cut -d" " -f1 spool/generation)" || echo $g; done) &&
	"$LITESTREAM" restore -generation $g1 -o lt-g1.db "file://$PWD/rep" 2>lt.err &&
	test "$(sql lt-g1.db "SELECT COUNT(*), MAX(batch) FROM t")" = "600|2"
'

test_expect_success LITESTREAM 'litestream restore: the spool itself' '
	"$LITESTREAM" restore -o lt-spool.db "file://$PWD/spool" 2>lt.err &&
	test "$(dump lt-spool.db)" = "$(dump db)"
'

test_expect_success LITESTREAM 'ls-restore agrees' '
	ls-restore -o ls.db rep && test "$(dump ls.db)" = "$(dump db)" &&
	ls-restore -timestamp "$(cat ts)" -o ls-ts.db rep &&
	test "$(sql ls-ts.db "SELECT COUNT(*), MAX(batch) FROM t")" = "901|4"
'

test_done
