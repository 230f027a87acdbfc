#!/bin/sh
test_description='ls-replicate and ls-exec with S3 replicas: config keys, secrets kept out of argv, global keys'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

s3_setup ls-test && s3_proxy_start --verify

dump() { sql "$1" .dump | grep -v _litestream_; }
kids() { pgrep -P "$(cat rep.pid)" -x "$1"; }

conf_error() {
	printf '%s\n' "$1" >bad.conf &&
	test_expect_code 100 ls-replicate -n -config bad.conf 2>err &&
	echo "ls-replicate: fatal: $2" >expect &&
	test_cmp expect err
}

test_expect_success S3PROXY 'S3 keys are checked with file and line' '
	conf_error "[db]
path = db
[replica]
url = s3://b/db
sse = AES128" "bad.conf:5: sse: '"'"'AES128'"'"' is neither AES256 nor aws:kms" &&
	conf_error "[db]
path = db
[replica]
path = dir
region = us-east-1" "bad.conf:5: region is not a setting of file replicas" &&
	conf_error "[db]
path = db
[replica]
url = s3://b/db
secret-access-key = x
secret-access-key-file = /x" "bad.conf:5: secret-access-key and secret-access-key-file both given" &&
	conf_error "[db]
path = db
[replica]
url = s3://b/db
bucket = c" "bad.conf:3: url and bucket both given (the URL holds both)" &&
	conf_error "[db]
path = db
[replica]
bucket = c" "bad.conf:3: bucket needs type = s3, abs or gcs" &&
	conf_error "[db]
path = db
[replica]
type = s3
path = x" "bad.conf:3: type s3 needs url, or bucket and path" &&
	conf_error "[db]
path = db
[replica]
url = s3://b/db
part-size = 5 apples" "bad.conf:5: part-size: '"'"'5 apples'"'"' is not a size (like 5242880 or 8MiB)" &&
	conf_error "[global]
access-key-id = A
secret-access-key = S
[db]
path = db
[replica]
url = s3://b/db
region = us-east-1
region = us-west-2" "bad.conf:9: region is already set at line 8"
'

# A config in the seeds' MinIO shape: bucket, path, endpoint, region, keys
# from the environment; the secret reaches the shipper in its environment.
test_expect_success S3PROXY 'replicate by config: the secret is in no argv' '
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	cat >s3.conf <<-EOC &&
	[global]
	access-key-id = \${KEY_ID}
	secret-access-key = \${SECRET}
	[db]
	path = $PWD/db
	monitor-interval = 50ms
	[replica]
	type = s3
	bucket = ls-test
	path = cfg/db
	endpoint = $S3_ENDPOINT
	region = us-east-1
	EOC
	KEY_ID=S3RVER SECRET=S3RVER ls-replicate -n -config s3.conf &&
	{ KEY_ID=S3RVER SECRET=S3RVER ls-replicate -d 3 -config s3.conf 3>ready 2>rep.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready &&
	sql db "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)" &&
	ship=$(kids ls-ship-s3) && test -n "$ship" &&
	tr "\0" "\n" </proc/$ship/cmdline >argv &&
	grep -qx "access-key-id=S3RVER" argv &&
	! grep -q "secret" argv &&
	tr "\0" "\n" </proc/$ship/environ | grep -x "LS_SECRET_ACCESS_KEY=S3RVER" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	LS_SECRET_ACCESS_KEY=S3RVER ls-restore -O endpoint=$S3_ENDPOINT -O access-key-id=S3RVER -o r.db s3://ls-test/cfg/db &&
	test "$(sql r.db "SELECT group_concat(x) FROM t")" = "1,2"
'

test_expect_success S3PROXY 'secret-access-key-file: the first line of a file' '
	printf "S3RVER\n" >secret && chmod 600 secret &&
	ls-list -O endpoint=$S3_ENDPOINT -O access-key-id=S3RVER -O secret-access-key-file=$PWD/secret s3://ls-test/cfg/db >list &&
	test $(wc -l <list) = 1 &&
	test_expect_code 100 ls-list -O endpoint=$S3_ENDPOINT -O access-key-id=S3RVER -O secret-access-key-file=$PWD/nope s3://ls-test/cfg/db 2>err &&
	echo "ls-list: fatal: secret-access-key-file: $PWD/nope: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success S3PROXY 'ls-exec restores a missing database from S3 with the same keys' '
	rm -f db db-wal db-shm &&
	KEY_ID=S3RVER SECRET=S3RVER ls-exec -restore-if-db-not-exists -config s3.conf sh -c "sqlite3 \"$PWD/db\" \"SELECT group_concat(x) FROM t\" >seen" &&
	test "$(cat seen)" = "1,2"
'

test_expect_success S3PROXY 'ls-exec: an unreadable replica is skipped for the next, but never means starting empty' '
	rm -f db db-wal db-shm &&
	sed "s|^\[db\]|[db]|" s3.conf >two.conf &&
	cat >>two.conf <<-EOC &&
	[replica]
	name = second
	type = s3
	bucket = ls-test
	path = cfg/db
	endpoint = $S3_ENDPOINT
	region = us-east-1
	EOC
	KEY_ID=S3RVER SECRET=wrong ls-exec -restore-if-db-not-exists -config two.conf true 2>err ;
	test $? = 100 &&
	grep -q "warning: unable to restore .* (ls-restore exited 100)" err &&
	grep -q "fatal: $PWD/db: not restored, and a replica could not be read" err &&
	test ! -f db
'

test_expect_success S3PROXY 'the config check runs the S3 URL and part-size checks' '
	conf_error "[db]
path = db
[replica]
url = s3://mybkt:9000/db" "bad.conf:3: s3://mybkt:9000/db: a port needs a known provider host or an endpoint setting" &&
	conf_error "[db]
path = db
[replica]
url = s3://b/db
part-size = 6GiB" "bad.conf:3: part-size: from 5MiB to 5GiB (S3'"'"'s smallest and largest part)" &&
	conf_error "[db]
path = db
[replica]
url = s3://b/db
sse-kms-key-id = k" "bad.conf:3: sse-kms-key-id needs sse = aws:kms"
'

test_expect_success S3PROXY 'a wrong secret in the config: the shipper exits 100 and is not restarted' '
	{ KEY_ID=S3RVER SECRET=wrong ls-replicate -config s3.conf 2>rep2.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for grep -q "ls-ship-s3: fatal: s3://ls-test: .* refused: SignatureDoesNotMatch" rep2.err &&
	wait_for grep -q "exited 100" rep2.err &&
	! grep -q wrong rep2.err &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)"
'

test_done
