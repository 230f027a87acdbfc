#!/bin/sh
test_description='ls-ship-abs and ls-restore against Azurite, which checks every Shared Key signature'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-abs.sh"

abs_setup && abs_proxy_start

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
batch() {
	python3 -c "
import sqlite3, os
c = sqlite3.connect(\"${3:-db}\", isolation_level=None, timeout=30)
for i in range($2):
    c.execute(\"INSERT INTO t(batch, pad) VALUES (?, ?)\", ($1, os.urandom(${4:-800})))
"
}
mkdb() {
	sql "$1" "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, pad BLOB)" >/dev/null
}
O="-O endpoint=$ABS_ENDPOINT"
LS_ACCOUNT_KEY=$ABS_KEY
export LS_ACCOUNT_KEY
SHIPPER=ls-ship-abs
export SHIPPER
URL=abs://devstoreaccount1@ls-test/db1

test_expect_success ABSPROXY 'setup: a container' '
	abs_container ls-test
'

test_expect_success ABSPROXY 'bad settings and URLs exit 100 with one line' '
	test_expect_code 100 ls-ship-abs -O account-key=x spool $URL 2>err &&
	echo "ls-ship-abs: fatal: -O account-key: a secret is not taken from the command line (use account-key-file=PATH or LS_ACCOUNT_KEY)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-abs spool abs://ls-test/db 2>err &&
	echo "ls-ship-abs: fatal: abs://ls-test/db: no account (abs://ACCOUNT@CONTAINER/PATH, or account-name)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-abs spool abs://acct@Bad_Name/db 2>err &&
	echo "ls-ship-abs: fatal: abs://acct@Bad_Name/db: '"'"'Bad_Name'"'"' is not a container name (3 to 63 of a-z, 0-9 and single inner dashes)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 env -u LS_ACCOUNT_KEY ls-ship-abs -O endpoint=http://127.0.0.1:9/devstoreaccount1 spool $URL 2>err &&
	echo "ls-ship-abs: fatal: abs://devstoreaccount1@ls-test: Azure AD tokens go only over https (an http endpoint needs account-key or sas-token)" >expect &&
	test_cmp expect err
'

test_expect_success ABSPROXY 'replicate, then restore the same database' '
	mkdb db &&
	start_pipeline "-i 50ms -c 200 db spool" "-r 0 $O spool $URL" &&
	batch 1 300 && sleep 0.3 && batch 2 300 && sleep 1.1 &&
	now >ts && sleep 1.1 && batch 3 300 && sleep 0.2 &&
	stop_pipeline &&
	ls-restore $O -o r.db $URL &&
	test "$(sql r.db "PRAGMA integrity_check")" = ok &&
	test "$(dump r.db)" = "$(dump db)" &&
	abs_ls ls-test db1/ >keys &&
	grep -q "^db1/generations/[0-9a-f]*/snapshots/00000000.snapshot.lz4$" keys &&
	(cd spool && find generations -name "*.lz4" | sort) >spool.list &&
	sed "s|^db1/||" keys | sort >abs.list &&
	for k in $(cat abs.list); do
		abs_cat ls-test db1/$k | cmp - spool/$k || exit 1
	done &&
	comm -13 abs.list spool.list >missing && test_cmp /dev/null missing
'

# Azure keeps the creation time in whole seconds.
test_expect_success ABSPROXY 'point in time, listing, parallel restore' '
	ls-restore $O -timestamp "$(cat ts)" -o ts.db $URL &&
	test "$(sql ts.db "SELECT COUNT(*), MAX(batch) FROM t")" = "600|2" &&
	ls-list $O $URL >list && test $(wc -l <list) = 1 &&
	: >"$ABS_PROXY_LOG" &&
	ls-restore $O -parallelism 8 -o par.db $URL &&
	test "$(dump par.db)" = "$(dump db)" &&
	test $(grep -c "^GET .*\.wal\.lz4" "$ABS_PROXY_LOG") -ge 2
'

test_expect_success ABSPROXY 'a wrong key exits 100 naming account and container' '
	test_expect_code 100 env LS_ACCOUNT_KEY=$(printf wrongkeywrongkey | base64) ls-list $O $URL 2>err &&
	grep "^ls-list: fatal: abs://devstoreaccount1@ls-test: LIST db1/generations/ refused: AuthorizationFailure" err &&
	test $(wc -l <err) = 1
'

test_expect_success ABSPROXY 'a missing container exits 100' '
	test_expect_code 100 ls-list $O abs://devstoreaccount1@nosuch/x 2>err &&
	echo "ls-list: fatal: abs://devstoreaccount1@nosuch: no such container (ContainerNotFound)" >expect &&
	test_cmp expect err
'

test_expect_success ABSPROXY 'a snapshot above part-size goes up in blocks and restores' '
	rm -rf big bigspool && mkdir big && mkdb big/db &&
	batch 1 3000 big/db 1000 &&
	: >"$ABS_PROXY_LOG" &&
	(cd big && start_pipeline "-i 50ms db ../bigspool" "-r 0 $O -O part-size=1MiB -O concurrency=3 ../bigspool abs://devstoreaccount1@ls-test/big" &&
	 sleep 0.5 && stop_pipeline) &&
	snap=$(cd bigspool && ls generations/*/snapshots/*.snapshot.lz4) &&
	test $(wc -c <bigspool/$snap) -gt 2097152 &&
	test $(grep -c "^PUT /devstoreaccount1/ls-test/big/$snap blockid=.*&comp=block 201" "$ABS_PROXY_LOG") = 3 &&
	grep -q "^PUT /devstoreaccount1/ls-test/big/$snap comp=blocklist 201" "$ABS_PROXY_LOG" &&
	abs_cat ls-test big/$snap | cmp - bigspool/$snap &&
	ls-restore $O -o big.db abs://devstoreaccount1@ls-test/big &&
	test "$(dump big.db)" = "$(dump big/db)"
'

test_expect_success ABSPROXY 'retention deletes the old generation' '
	rm -rf rt rtspool && mkdir rt && mkdb rt/db &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 0 $O ../rtspool abs://devstoreaccount1@ls-test/rt" &&
	 batch 1 10 db && sleep 0.3 && stop_pipeline) &&
	sql rt/db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sql rt/db "INSERT INTO t(batch) VALUES (2)" &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 1ms -R 100ms $O ../rtspool abs://devstoreaccount1@ls-test/rt" &&
	 batch 3 10 db && sleep 1 && stop_pipeline) &&
	abs_ls ls-test rt/generations/ | cut -d/ -f3 | sort -u >gens &&
	test "$(cat gens)" = "$(cut -d" " -f1 rtspool/generation)" &&
	ls-restore $O -o rt.db abs://devstoreaccount1@ls-test/rt &&
	test "$(dump rt.db)" = "$(dump rt/db)"
'

test_expect_success ABSPROXY 'faults: resets, 503s, a truncated body, a cut upload' '
	abs_faults "PUT *.wal.lz4 reset 2" "PUT *.wal.lz4 503 2" "PUT *.snapshot.lz4 500 1" \
	    "PUT *.wal.lz4 reset-mid-upload 1" &&
	rm -rf fl flspool && mkdir fl && mkdb fl/db &&
	(cd fl && start_pipeline "-i 50ms db ../flspool" "-r 0 $O -O timeout=2s ../flspool abs://devstoreaccount1@ls-test/fl" &&
	 batch 1 100 db && sleep 0.3 && batch 2 100 db && sleep 0.5 && stop_pipeline) &&
	test "$(grep -c "fault=reset$" "$ABS_PROXY_LOG")" = 2 &&
	test "$(grep -c "fault=503$" "$ABS_PROXY_LOG")" = 2 &&
	test "$(grep -c "fault=reset-mid-upload$" "$ABS_PROXY_LOG")" = 1 &&
	abs_faults "GET *.snapshot.lz4 truncate 1" "GET *.wal.lz4 reset 1" &&
	ls-restore $O -o fl.db abs://devstoreaccount1@ls-test/fl &&
	test "$(dump fl.db)" = "$(dump fl/db)" &&
	grep -q "^GET /devstoreaccount1/ls-test/fl/generations/.*snapshot.lz4 - 206" "$ABS_PROXY_LOG" &&
	abs_faults
'

test_expect_success ABSPROXY '1100 blobs: listed in pages of 1000, removed by retention' '
	abs_faults &&
	rm -rf many manyspool && mkdir many &&
	sql many/db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	(cd many && start_pipeline "-i 0 db ../manyspool" "-r 0 $O ../manyspool abs://devstoreaccount1@ls-test/many" &&
	 python3 -c "
import sqlite3
c = sqlite3.connect(\"db\", isolation_level=None)
for i in range(1100):
    c.execute(\"INSERT INTO t VALUES (?)\", (i,))
" && sleep 0.5 && stop_pipeline) &&
	old=$(cut -d" " -f1 manyspool/generation) &&
	: >"$ABS_PROXY_LOG" &&
	ls-list $O -g $old abs://devstoreaccount1@ls-test/many >objs &&
	test $(wc -l <objs) -gt 1100 &&
	grep -c "^GET /devstoreaccount1/ls-test comp=list&marker=" "$ABS_PROXY_LOG" >pages &&
	test "$(cat pages)" = 1 &&
	sql many/db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sql many/db "INSERT INTO t VALUES (-1)" &&
	(cd many && start_pipeline "-i 50ms db ../manyspool" "-r 1ms -R 100ms $O ../manyspool abs://devstoreaccount1@ls-test/many" &&
	 wait_for eval "test -z \"\$(abs_ls ls-test many/generations/$old/)\"" &&
	 stop_pipeline) &&
	ls-restore $O -o many.db abs://devstoreaccount1@ls-test/many &&
	test "$(sql many.db "SELECT COUNT(*) FROM t")" = 1101
'

test_done
