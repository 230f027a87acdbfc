#!/bin/sh
test_description='interop: replicas written by Litestream v0.3.13 restore with ls-restore'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-restore.sh"

litestream_setup

now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }

# rows DB: a checksum of the rows of t, in order (Litestream's own tables,
# which it writes on its own schedule, are left out).
rows() { sql "$1" "SELECT id, b, hex(v) FROM t ORDER BY id" | cksum; }

# batch B: 15 transactions of one 2500-byte row each, each its own
# connection, so that Litestream checkpoints and starts new WAL indexes.
# Litestream locks the database now and then: wait for it.
batch() {
	_i=0
	while [ $_i -lt 15 ]; do
		sql -cmd ".timeout 10000" db \
		    "INSERT INTO t(b, v) VALUES($1, randomblob(2500))" || return 1
		_i=$((_i + 1))
	done
}

# running PID: the process exists and is not a zombie.
running() { test -r /proc/$1/stat && ! sed "s/.*) //" /proc/$1/stat | grep -q "^Z"; }

start_litestream() {
	"$LITESTREAM" replicate -config ls.yml >>ls.log 2>&1 &
	echo $! >ls.pid &&
	test_atexit "kill -9 $!"
}

stop_litestream() {
	kill -TERM "$(cat ls.pid)" &&
	wait_for eval '! running $(cat ls.pid)'
}

generations() { ls-list rep 2>/dev/null | wc -l | tr -d " "; }

test_expect_success LITESTREAM 'setup: two generations of several WAL indexes' '
	cat >ls.yml <<-EOF &&
	dbs:
	  - path: $TRASH/db
	    monitor-interval: 100ms
	    checkpoint-interval: 1s
	    min-checkpoint-page-count: 10
	    replicas:
	      - url: file://$TRASH/rep
	        sync-interval: 100ms
	EOF
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v BLOB)" >/dev/null &&
	start_litestream &&
	wait_for eval "test \$(generations) = 1" &&
	batch 1 && sleep 1 && now >ts1 && rows db >rows1 &&
	batch 2 && sleep 1 && now >ts2 && rows db >rows2 &&
	stop_litestream &&
	batch 3 &&
	sql -cmd ".timeout 10000" db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sleep 0.1 && now >ts3 && rows db >rows3 &&
	start_litestream &&
	wait_for eval "test \$(generations) = 2" &&
	batch 4 && sleep 1 && now >ts4 && rows db >rows4 &&
	stop_litestream &&
	ls-list rep | cut -f1 >gens &&
	test $(wc -l <gens) = 2 &&
	A=$(sed -n 1p gens) &&
	ls-list -g $A rep | grep "^wal" | cut -f2 | sort -u >idx.A &&
	test $(wc -l <idx.A) -ge 3
'

test_expect_success LITESTREAM 'the newest state, same rows, integrity ok' '
	ls-restore -o latest.db rep 2>err &&
	test ! -s err &&
	rows latest.db >got &&
	test_cmp rows4 got &&
	test "$(sql latest.db "PRAGMA integrity_check")" = ok &&
	test "$(sql latest.db "PRAGMA journal_mode")" = wal &&
	no_temp latest.db
'

test_expect_success LITESTREAM 'byte for byte what litestream restore makes' '
	"$LITESTREAM" restore -o lt.db "file://$TRASH/rep" 2>/dev/null &&
	cmp lt.db latest.db
'

for b in 1 2 4; do
	test_expect_success LITESTREAM "-timestamp after batch $b" "
		ls-restore -timestamp \$(cat ts$b) -o at$b.db rep &&
		rows at$b.db >got &&
		test_cmp rows$b got &&
		test \"\$(sql at$b.db 'PRAGMA integrity_check')\" = ok
	"
done

test_expect_success LITESTREAM '-timestamp while Litestream was down: the first generation' '
	ls-restore -timestamp $(cat ts3) -o at3.db rep &&
	rows at3.db >got &&
	test_cmp rows2 got &&
	! test_cmp rows3 got >/dev/null
'

test_expect_success LITESTREAM '-generation: the end of the first generation' '
	A=$(sed -n 1p gens) &&
	ls-restore -generation $A -o genA.db rep &&
	rows genA.db >got &&
	test_cmp rows2 got
'

test_expect_success LITESTREAM '-generation -index agrees with litestream restore at every index' '
	A=$(sed -n 1p gens) &&
	for i in $(cat idx.A); do
		rm -f ix.db lx.db* &&
		ls-restore -generation $A -index $i -o ix.db rep &&
		"$LITESTREAM" restore -generation $A -index $i -o lx.db "file://$TRASH/rep" 2>/dev/null &&
		rows ix.db >got &&
		rows lx.db >want &&
		test_cmp want got &&
		test "$(sql ix.db "PRAGMA integrity_check")" = ok || exit 1
	done
'

test_expect_success LITESTREAM '-timestamp before the first object: no backup' '
	test_expect_code 100 ls-restore -timestamp 2000-01-01T00:00:00Z -o early.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: no matching backups found" >expect &&
	test_cmp expect err
'

test_done
