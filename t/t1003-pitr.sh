#!/bin/sh
test_description='point-in-time restore at several timestamps'
. "$(dirname "$0")/lib.sh"

now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }

test_expect_success 'setup: batches of writes with a timestamp between each' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER)" &&
	start_pipeline "-i 50ms -c 50 db spool" "-r 0 spool rep" &&
	wait_for has_file 'rep/generations/*/snapshots/00000000.snapshot.lz4' &&
	for b in 1 2 3 4 5; do
		python3 -c "
import sqlite3, sys
c = sqlite3.connect(\"db\", isolation_level=None, timeout=30)
for i in range(40):
    c.execute(\"INSERT INTO t(batch, id) VALUES (?, NULL)\", ($b,))
" &&
		sleep 0.4 && now >ts.$b && sleep 0.4 || exit 1
	done &&
	stop_pipeline
'

for b in 1 2 3 4 5; do
	test_expect_success "restore at the time after batch $b" "
		ls-restore -timestamp \$(cat ts.$b) -o at$b.db rep &&
		test \"\$(sql at$b.db \"SELECT COUNT(*), MAX(batch) FROM t\")\" = \"$((b * 40))|$b\" &&
		test \"\$(sql at$b.db \"PRAGMA integrity_check\")\" = ok &&
		LS_RESTORE_APPLY=sqlite ls-restore -timestamp \$(cat ts.$b) -o oracle$b.db rep &&
		cmp at$b.db oracle$b.db
	"
done

test_expect_success 'a timestamp after the newest object restores the newest state' '
	ls-restore -timestamp 2999-01-01T00:00:00Z -o late.db rep &&
	test "$(sql late.db "SELECT COUNT(*) FROM t")" = 200
'

test_expect_success 'a timestamp before the first object finds nothing: exit 100' '
	test_expect_code 100 ls-restore -timestamp 2000-01-01T00:00:00Z -o early.db rep 2>err &&
	test ! -e early.db
'

test_done
