#!/bin/sh
test_description='ls-watch | ls-ship-file: replicate under load, restore equal'
. "$(dirname "$0")/lib.sh"

# dump DB: the database's content, without the replication bookkeeping.
dump() { sql "$1" .dump | grep -v _litestream_; }

test_expect_success 'setup: two concurrent writers, checkpoints, a pipeline' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE other(id INTEGER PRIMARY KEY, v TEXT)" &&
	start_pipeline "-i 100ms -c 200 -C 800 db spool" "-r 0 spool rep" &&
	wait_for has_file 'rep/generations/*/snapshots/00000000.snapshot.lz4' &&
	{ test-writer db 150 0.01 20 1000 >w1.out & } &&
	w1=$! &&
	python3 -c "
import sqlite3
c = sqlite3.connect(\"db\", isolation_level=None, timeout=30)
for i in range(300):
    c.execute(\"INSERT INTO other(v) VALUES (?)\", (\"v%d\" % i,))
    if i % 100 == 99:
        c.execute(\"PRAGMA wal_checkpoint(PASSIVE)\")
" &&
	wait $w1 &&
	test $(wc -l <w1.out) = 150 &&
	stop_pipeline &&
	test ! -s watch.err &&
	test ! -s ship.err
'

test_expect_success 'checkpoints made several WAL indexes' '
	ls rep/generations/*/wal | cut -c1-8 | sort -u >idx &&
	test $(wc -l <idx) -ge 3 &&
	test $(ls rep/generations | wc -l) = 1
'

test_expect_success 'the replica restores to exactly the source' '
	ls-restore -o out.db rep &&
	test "$(sql out.db "PRAGMA integrity_check")" = ok &&
	dump db >expect && dump out.db >actual &&
	test_cmp expect actual &&
	test "$(sql out.db "SELECT COUNT(*) FROM w")" = 3000 &&
	test "$(sql out.db "SELECT COUNT(*) FROM other")" = 300 &&
	ls out.db* >files && echo out.db >one && test_cmp one files
'

test_expect_success 'direct apply and the SQLite oracle agree byte for byte' '
	LS_RESTORE_APPLY=sqlite ls-restore -o oracle.db rep &&
	cmp out.db oracle.db &&
	test_expect_code 100 env LS_RESTORE_APPLY=bogus ls-restore -o x.db rep 2>err &&
	echo "ls-restore: fatal: LS_RESTORE_APPLY=bogus: not sqlite or direct" >want &&
	test_cmp want err
'

test_expect_success 'the spool restores to the same state' '
	ls-restore -o spool.db spool &&
	dump spool.db >actual &&
	test_cmp expect actual
'

test_expect_success 'replica objects match the spool byte for byte' '
	(cd spool && find generations -type f | sort) >s &&
	(cd rep && find generations -type f | sort) >r &&
	comm -12 s r >both && test -s both &&
	while read f; do cmp spool/$f rep/$f || exit 1; done <both
'

test_expect_success 'no temporary files are left in the replica' '
	find rep -name "*.tmp" -o -name ".*" -type f >tmps &&
	test ! -s tmps
'

test_done
