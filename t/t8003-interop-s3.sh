#!/bin/sh
test_description='interop through s3rver: Litestream v0.3.13 replicas restore with ls-restore, ls-ship-s3 replicas with litestream restore'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

litestream_setup
s3_setup ls-test && s3_proxy_start --verify

now() { date -u +%Y-%m-%dT%H:%M:%S.%NZ; }
rows() { sql "$1" "SELECT id, b, hex(v) FROM t ORDER BY id" | cksum; }
batch() {
	_i=0
	while [ $_i -lt 15 ]; do
		sql -cmd ".timeout 10000" db \
		    "INSERT INTO t(b, v) VALUES($1, randomblob(2500))" || return 1
		_i=$((_i + 1))
	done
}
running() { test -r /proc/$1/stat && ! sed "s/.*) //" /proc/$1/stat | grep -q "^Z"; }

# Litestream talks to s3rver itself; every ls-* command goes through the
# verifying proxy.
lt_yml() {
	cat <<-EOF
	dbs:
	  - path: $TRASH/$1
	    monitor-interval: 100ms
	    checkpoint-interval: 1s
	    min-checkpoint-page-count: 10
	    replicas:
	      - type: s3
	        bucket: ls-test
	        path: $2
	        endpoint: $S3RVER_ENDPOINT
	        region: us-east-1
	        force-path-style: true
	        access-key-id: S3RVER
	        secret-access-key: S3RVER
	        sync-interval: 100ms
	EOF
}
O="-O endpoint=$S3_ENDPOINT -O access-key-id=S3RVER"
LS_SECRET_ACCESS_KEY=S3RVER
export LS_SECRET_ACCESS_KEY

test_expect_success LITESTREAM,S3PROXY 'Litestream replicates to s3rver; ls-restore restores' '
	lt_yml db lt >lt.yml &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v BLOB)" >/dev/null &&
	{ "$LITESTREAM" replicate -config lt.yml >>lt.log 2>&1 & } &&
	echo $! >lt.pid && test_atexit "kill -9 $(cat lt.pid)" &&
	wait_for eval "s3_ls ls-test lt/ | grep -q snapshot" &&
	batch 1 && sleep 1.5 && now >ts1 && rows db >rows1 && sleep 1.2 &&
	batch 2 && sleep 1.5 && rows db >rows2 &&
	kill -TERM $(cat lt.pid) && wait_for eval "! running $(cat lt.pid)" &&
	ls-restore $O -o r.db s3://ls-test/lt &&
	rows r.db >got && test_cmp rows2 got &&
	test "$(sql r.db "PRAGMA integrity_check")" = ok &&
	ls-restore $O -timestamp "$(cat ts1)" -o r1.db s3://ls-test/lt &&
	rows r1.db >got1 && test_cmp rows1 got1
'

test_expect_success LITESTREAM,S3PROXY 'ls-ship-s3 replicates; litestream restore restores' '
	rm -f db db-wal db-shm &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, b INTEGER, v BLOB)" >/dev/null &&
	SHIPPER=ls-ship-s3 start_pipeline "-i 50ms -c 20 db spool" "-r 0 $O spool s3://ls-test/ours" &&
	batch 1 && sleep 0.3 && batch 2 && sleep 0.3 && batch 3 && sleep 0.3 &&
	stop_pipeline && rows db >rows3 &&
	lt_yml db ours >lt2.yml &&
	"$LITESTREAM" restore -config lt2.yml -o lt.db "$TRASH/db" 2>lt2.err &&
	rows lt.db >got && test_cmp rows3 got &&
	test "$(sql lt.db "PRAGMA integrity_check")" = ok
'

test_done
