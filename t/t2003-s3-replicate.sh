#!/bin/sh
test_description='ls-ship-s3 and ls-restore against s3rver, through a proxy that checks every signature with botocore'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

s3_setup ls-test && s3_proxy_start --verify

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
# The settings every command here needs: the proxy, path style, keys.
O="-O endpoint=$S3_ENDPOINT -O region=us-east-1 -O access-key-id=S3RVER"
LS_SECRET_ACCESS_KEY=S3RVER
export LS_SECRET_ACCESS_KEY
SHIPPER=ls-ship-s3
export SHIPPER
URL=s3://ls-test/db1

test_expect_success S3PROXY 'bad settings exit 100 with one line' '
	test_expect_code 100 ls-ship-s3 -O nope=1 spool $URL 2>err &&
	echo "ls-ship-s3: fatal: -O nope: not a setting of s3 replicas" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-s3 -O secret-access-key=hunter2 spool $URL 2>err &&
	echo "ls-ship-s3: fatal: -O secret-access-key: a secret is not taken from the command line (use secret-access-key-file=PATH or LS_SECRET_ACCESS_KEY)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-s3 -O part-size=1MiB spool $URL 2>err &&
	echo "ls-ship-s3: fatal: part-size: from 5MiB to 5GiB (S3'"'"'s smallest and largest part)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-s3 -O force-path-style=maybe spool $URL 2>err &&
	echo "ls-ship-s3: fatal: -O force-path-style: '"'"'maybe'"'"' is not true or false" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-s3 spool file:///tmp/x 2>err &&
	echo "ls-ship-s3: fatal: file:///tmp/x: not a replica of type s3 (use ls-ship-file)" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-ship-s3 spool "s3://ls-test/x?versionId=1" 2>err &&
	echo "ls-ship-s3: fatal: s3://ls-test/x?versionId=1: an S3 URL has no query or fragment" >expect &&
	test_cmp expect err
'

test_expect_success S3PROXY 'replicate, then restore the same database' '
	mkdb db &&
	start_pipeline "-i 50ms -c 200 db spool" "-r 0 $O spool $URL" &&
	batch 1 300 && sleep 0.3 && batch 2 300 && sleep 1.1 &&
	now >ts && sleep 1.1 && batch 3 300 && sleep 0.2 &&
	stop_pipeline &&
	ls-restore $O -o r.db $URL &&
	test "$(sql r.db "PRAGMA integrity_check")" = ok &&
	test "$(dump r.db)" = "$(dump db)" &&
	test "$(sql r.db "SELECT COUNT(*) FROM t")" = 900 &&
	s3_ls ls-test db1/ >keys &&
	grep -q "^db1/generations/[0-9a-f]*/snapshots/00000000.snapshot.lz4$" keys &&
	grep -q "^db1/generations/[0-9a-f]*/wal/[0-9a-f]*_[0-9a-f]*.wal.lz4$" keys
'

test_expect_success S3PROXY 'every object is the spool object, byte for byte' '
	(cd spool && find generations -name "*.lz4" | sort) >spool.list &&
	sed "s|^db1/||" keys | sort >s3.list &&
	for k in $(cat s3.list); do
		s3_cat ls-test db1/$k | cmp - spool/$k || exit 1
	done &&
	comm -13 s3.list spool.list >missing && test_cmp /dev/null missing
'

# S3 keeps no creation time but LastModified, the upload's, in seconds.
test_expect_success S3PROXY 'point in time, and the listing tool' '
	ls-restore $O -timestamp "$(cat ts)" -o ts.db $URL &&
	test "$(sql ts.db "SELECT COUNT(*), MAX(batch) FROM t")" = "600|2" &&
	ls-list $O $URL >list &&
	test $(wc -l <list) = 1 &&
	test "$(cut -f1 list)" = "$(cut -d" " -f1 spool/generation)"
'

test_expect_success S3PROXY '-v names the credential source; a region not given is looked up' '
	: >"$S3_PROXY_LOG" &&
	ls-list -v -O endpoint=$S3_ENDPOINT -O access-key-id=S3RVER $URL >/dev/null 2>err &&
	grep -x "ls-list: info: credentials from config" err &&
	grep -x "ls-list: info: s3://ls-test: region us-east-1" err &&
	grep -q "^GET /ls-test location= 200$" "$S3_PROXY_LOG" &&
	! grep -q S3RVER err &&
	: >"$S3_PROXY_LOG" &&
	ls-list -v $O $URL >/dev/null 2>err &&
	! grep -q location= "$S3_PROXY_LOG" &&
	env -u LS_SECRET_ACCESS_KEY AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER \
	    ls-list -v -O endpoint=$S3_ENDPOINT -O region=us-east-1 $URL >/dev/null 2>err &&
	grep -x "ls-list: info: credentials from environment (AWS_\*)" err
'

test_expect_success S3PROXY 'parallel restore downloads with several connections' '
	: >"$S3_PROXY_LOG" &&
	ls-restore $O -parallelism 8 -o par.db $URL &&
	test "$(dump par.db)" = "$(dump db)" &&
	test $(grep -c "^GET .*\.wal\.lz4" "$S3_PROXY_LOG") -ge 2
'

test_expect_success S3PROXY 'a wrong secret exits 100 naming the bucket and the reason' '
	test_expect_code 100 env LS_SECRET_ACCESS_KEY=wrong ls-list $O $URL 2>err &&
	echo "ls-list: fatal: s3://ls-test: LIST db1/generations/ refused: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method." >expect &&
	test_cmp expect err &&
	test_expect_code 100 env LS_SECRET_ACCESS_KEY=wrong ls-ship-s3 -1 $O spool s3://ls-test/other 2>err &&
	grep "^ls-ship-s3: fatal: s3://ls-test: .* refused: SignatureDoesNotMatch" err &&
	! grep -q wrong err &&
	s3_ls ls-test other/ >other && test_cmp /dev/null other
'

test_expect_success S3PROXY 'a missing bucket exits 100' '
	test_expect_code 100 ls-list $O s3://no-such-bucket/x 2>err &&
	grep "^ls-list: fatal: s3://no-such-bucket: no such bucket" err
'

test_expect_success S3PROXY 'a snapshot above part-size goes up in parts and restores' '
	rm -rf big bigspool && mkdir big && mkdb big/db &&
	batch 1 7000 big/db 1000 &&
	: >"$S3_PROXY_LOG" &&
	(cd big && start_pipeline "-i 50ms db ../bigspool" "-r 0 $O -O part-size=5MiB -O concurrency=3 ../bigspool s3://ls-test/big" &&
	 sleep 0.5 && stop_pipeline) &&
	snap=$(cd bigspool && ls generations/*/snapshots/*.snapshot.lz4) &&
	test $(wc -c <bigspool/$snap) -gt 5242880 &&
	grep -q "^POST /ls-test/big/$snap uploads= 200$" "$S3_PROXY_LOG" &&
	test $(grep -c "^PUT /ls-test/big/$snap partNumber=[12]&uploadId=.* 200$" "$S3_PROXY_LOG") = 2 &&
	grep -q "^POST /ls-test/big/$snap uploadId=.* 200$" "$S3_PROXY_LOG" &&
	s3_cat ls-test big/$snap | cmp - bigspool/$snap &&
	ls-restore $O -o big.db s3://ls-test/big &&
	test "$(dump big.db)" = "$(dump big/db)"
'

test_expect_success S3PROXY 'retention deletes old generations in one batch' '
	rm -rf rt rtspool && mkdir rt && mkdb rt/db &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 0 $O ../rtspool s3://ls-test/rt" &&
	 batch 1 10 db && sleep 0.3 && stop_pipeline) &&
	sql rt/db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sql rt/db "INSERT INTO t(batch) VALUES (2)" &&
	: >"$S3_PROXY_LOG" &&
	(cd rt && start_pipeline "-i 50ms db ../rtspool" "-r 1ms -R 100ms $O ../rtspool s3://ls-test/rt" &&
	 batch 3 10 db && sleep 1 && stop_pipeline) &&
	s3_ls ls-test rt/generations/ | cut -d/ -f3 | sort -u >gens &&
	test $(wc -l <gens) = 1 &&
	test "$(cat gens)" = "$(cut -d" " -f1 rtspool/generation)" &&
	test $(grep -c "^POST /ls-test delete= 200$" "$S3_PROXY_LOG") = 1 &&
	ls-restore $O -o rt.db s3://ls-test/rt &&
	test "$(dump rt.db)" = "$(dump rt/db)"
'

test_expect_success S3PROXY 'storage-class and sse go with every new object, signed' '
	: >"$S3_PROXY_LOG" &&
	rm -rf sc scspool && mkdir sc && mkdb sc/db &&
	(cd sc && start_pipeline "-i 50ms db ../scspool" "-r 0 $O -O storage-class=STANDARD_IA -O sse=aws:kms -O sse-kms-key-id=alias/ls ../scspool s3://ls-test/sc" &&
	 batch 1 10 db && sleep 0.3 && stop_pipeline) &&
	grep "^PUT /ls-test/sc/" "$S3_PROXY_LOG" >puts &&
	test $(wc -l <puts) -ge 2 &&
	! grep -v " 200 class=STANDARD_IA sse=aws:kms kms=alias/ls$" puts &&
	snap=$(cd scspool && ls generations/*/snapshots/*.snapshot.lz4) &&
	s3_curl -I "$S3RVER_ENDPOINT/ls-test/sc/$snap" | tr -d "\r" | grep -ix "x-amz-storage-class: STANDARD_IA"
'

test_expect_success S3PROXY 'more than 1000 objects go in DeleteObjects batches of 1000' '
	rm -rf many manyspool && mkdir many &&
	sql many/db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	(cd many && start_pipeline "-i 0 db ../manyspool" "-r 0 $O ../manyspool s3://ls-test/many" &&
	 python3 -c "
import sqlite3
c = sqlite3.connect(\"db\", isolation_level=None)
for i in range(1100):
    c.execute(\"INSERT INTO t VALUES (?)\", (i,))
" && sleep 0.5 && stop_pipeline) &&
	old=$(cut -d" " -f1 manyspool/generation) &&
	test $(s3_ls ls-test many/generations/$old/ | wc -l) -gt 1100 &&
	sql many/db "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null &&
	sql many/db "INSERT INTO t VALUES (-1)" &&
	: >"$S3_PROXY_LOG" &&
	(cd many && start_pipeline "-i 50ms db ../manyspool" "-r 1ms -R 100ms $O ../manyspool s3://ls-test/many" &&
	 wait_for eval "test \$(grep -c \"^POST /ls-test delete= 200\$\" \"$S3_PROXY_LOG\") = 2" &&
	 stop_pipeline) &&
	test $(s3_ls ls-test many/generations/$old/ | wc -l) = 0 &&
	ls-restore $O -o many.db s3://ls-test/many &&
	test "$(sql many.db "SELECT COUNT(*) FROM t")" = 1101
'

test_expect_success S3PROXY 'merged segments (-i) and validation (-V) over S3, one backend for both restore threads' '
	ls-ship-s3 -1 -v -i 1m -V 1h -r 0 -n merged $O spool s3://ls-test/merged 2>err &&
	grep -q "^ls-ship-s3: info: validated s3://ls-test/merged: it restores to the spool'"'"'s database$" err &&
	s3_ls ls-test merged/ >mkeys &&
	test $(grep -c "\.wal\.lz4$" mkeys) -lt $(find spool -name "*.wal.lz4" | wc -l) &&
	grep -q "^validation_ok_total 1$" spool/stats/replica.merged &&
	grep -q "^get_total $(wc -l <mkeys)$" spool/stats/replica.merged &&
	ls-restore $O -o merged.db s3://ls-test/merged &&
	test "$(dump merged.db)" = "$(dump db)"
'

test_done
