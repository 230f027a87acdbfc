#!/bin/sh
test_description='S3 faults: resets, 5xx, a stall, a truncated body, an upload cut short; nothing half-written is confirmed'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

s3_setup ls-test && s3_proxy_start --verify --faults rules

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }
batch() {
	python3 -c "
import sqlite3, os
c = sqlite3.connect(\"db\", isolation_level=None, timeout=30)
for i in range($2):
    c.execute(\"INSERT INTO t(batch, pad) VALUES (?, ?)\", ($1, os.urandom(${3:-800})))
"
}
O="-O endpoint=$S3_ENDPOINT -O region=us-east-1 -O access-key-id=S3RVER -O timeout=2s"
LS_SECRET_ACCESS_KEY=S3RVER
export LS_SECRET_ACCESS_KEY
SHIPPER=ls-ship-s3
export SHIPPER

# Every object the ack covers is in the bucket, whole: the same bytes as
# the spool's copy (while the spool still holds it).
acked_objects_whole() {
	(cd spool && find generations -name "*.lz4" | sort) >spool.list &&
	for k in $(cat spool.list); do
		s3_cat ls-test "$1/$k" | cmp - "spool/$k" || return 1
	done
}

test_expect_success S3PROXY 'shipping goes on through resets, 500s, 503s and a cut upload' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, pad BLOB)" >/dev/null &&
	s3_faults "PUT *.wal.lz4 reset 2" "PUT *.wal.lz4 503 2" "PUT *.snapshot.lz4 500 1" \
	    "PUT *.wal.lz4 reset-mid-upload 2" &&
	start_pipeline "-i 50ms db spool" "-r 0 $O spool s3://ls-test/f1" &&
	batch 1 100 && sleep 0.3 && batch 2 100 && sleep 0.3 && batch 3 100 &&
	sleep 0.5 && stop_pipeline &&
	test "$(grep -c "fault=reset$" "$S3_PROXY_LOG")" = 2 &&
	test "$(grep -c "fault=503$" "$S3_PROXY_LOG")" = 2 &&
	test "$(grep -c "fault=500$" "$S3_PROXY_LOG")" = 1 &&
	test "$(grep -c "fault=reset-mid-upload$" "$S3_PROXY_LOG")" = 2 &&
	grep -q "warning: PUT f1/generations/.*: .*trying again" ship.err &&
	acked_objects_whole f1 &&
	ls-restore $O -o r1.db s3://ls-test/f1 &&
	test "$(dump r1.db)" = "$(dump db)"
'

test_expect_success S3PROXY 'a stalled answer times out and is tried again' '
	s3_faults "PUT *.wal.lz4 stall 5 1" &&
	: >"$S3_PROXY_LOG" &&
	start_pipeline "-i 50ms db spool" "-r 0 $O spool s3://ls-test/f1" &&
	batch 4 50 && sleep 0.3 && stop_pipeline &&
	cp "$S3_PROXY_LOG" stall.log &&
	grep -q "fault=stall" "$S3_PROXY_LOG" &&
	grep -q "warning: PUT f1/generations/.*wal.lz4: nothing received for 2 s (timed out), trying again" ship.err &&
	acked_objects_whole f1 &&
	ls-restore $O -o r2.db s3://ls-test/f1 &&
	test "$(dump r2.db)" = "$(dump db)"
'

# s3rver answers AbortMultipartUpload with 405; that the abort is sent,
# with the upload's id, is what can be checked here.
test_expect_success S3PROXY 'a multipart upload whose part fails is aborted, then done again' '
	rm -rf big bigspool && mkdir big &&
	sql big/db "PRAGMA journal_mode=wal; CREATE TABLE t(id INTEGER PRIMARY KEY, batch INTEGER, pad BLOB)" >/dev/null &&
	(cd big && batch 1 7000 1000) &&
	s3_faults "PUT?partNumber *.snapshot.lz4 500 10" &&
	: >"$S3_PROXY_LOG" &&
	(cd big && start_pipeline "-i 50ms db ../bigspool" "-r 0 $O ../bigspool s3://ls-test/big" &&
	 wait_for grep -q "^POST /ls-test/big/generations/.*snapshot.lz4 uploadId=.* 200$" "$S3_PROXY_LOG" &&
	 stop_pipeline) &&
	test "$(grep -c "fault=500$" "$S3_PROXY_LOG")" = 10 &&
	grep -q "^DELETE /ls-test/big/generations/.*snapshot.lz4 uploadId=[^ ]* [0-9]" "$S3_PROXY_LOG" &&
	grep -q "^POST /ls-test/big/generations/.*snapshot.lz4 uploadId=.* 200$" "$S3_PROXY_LOG" &&
	ls-restore $O -o big.db s3://ls-test/big &&
	test "$(dump big.db)" = "$(dump big/db)"
'

test_expect_success S3PROXY 'restore goes on through a truncated body and resets' '
	s3_faults "GET *.snapshot.lz4 truncate 1" "GET *.wal.lz4 reset 2" "GET *.wal.lz4 truncate 2" &&
	: >"$S3_PROXY_LOG" &&
	ls-restore $O -o r3.db s3://ls-test/f1 2>err &&
	test "$(dump r3.db)" = "$(dump db)" &&
	test "$(grep -c "fault=truncate$" "$S3_PROXY_LOG")" = 3 &&
	grep -q "^GET /ls-test/f1/generations/.*snapshot.lz4 - 206 range=bytes=[1-9][0-9]*-" "$S3_PROXY_LOG"
'

test_expect_success S3PROXY 'an endpoint that never answers: exit 111, nothing confirmed' '
	port=$(s3_free_port) &&
	s3_faults &&
	batch 5 10 &&
	{ ls-watch -i 50ms db spool </dev/null >/dev/null 2>w.err & } &&
	wait_for grep -q . spool/generation && sleep 0.3 && kill -TERM $! && wait $! &&
	cp spool/acks/s3 ack.before &&
	test_expect_code 111 ls-ship-s3 -1 -O endpoint=http://127.0.0.1:$port -O region=us-east-1 -O access-key-id=S3RVER spool s3://ls-test/f1 2>err &&
	grep -q "Couldn.t connect to server" err &&
	cmp spool/acks/s3 ack.before &&
	test_expect_code 111 ls-list -O endpoint=http://127.0.0.1:$port -O access-key-id=S3RVER s3://ls-test/f1 2>err &&
	grep -q "^ls-list: fatal: s3://ls-test: unable to look up the bucket.s region (Couldn.t connect to server); set region to go on without$" err
'

test_done
