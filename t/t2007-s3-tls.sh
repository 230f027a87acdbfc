#!/bin/sh
test_description='S3 over HTTPS: certificates checked by default, ca-file, skip-verify with a warning'
. "$(dirname "$0")/lib.sh"

LS_SECRET_ACCESS_KEY=x
export LS_SECRET_ACCESS_KEY

test_expect_success 'setup: a self-signed certificate for 127.0.0.1 and a stub server' '
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem \
	    -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null &&
	{ tls-s3-stub cert.pem key.pem port 2>stub.err & } &&
	echo $! >stub.pid && test_atexit "kill $(cat stub.pid)" &&
	wait_for test -s port
'

test_expect_success 'an untrusted certificate is a permanent failure: exit 100' '
	test_expect_code 100 ls-list -O endpoint=https://127.0.0.1:$(cat port) \
	    -O region=us-east-1 -O access-key-id=x s3://b/db 2>err &&
	grep -q "^ls-list: fatal: LIST db/generations/: TLS: .* (see ca-file and skip-verify)$" err &&
	test_expect_code 100 ls-list -O endpoint=https://127.0.0.1:$(cat port) \
	    -O access-key-id=x s3://b/db 2>err &&
	grep -q "^ls-list: fatal: s3://b: unable to look up the bucket.s region (TLS: .*); set region to go on without$" err
'

test_expect_success 'ca-file trusts it' '
	test_expect_code 1 ls-list -O endpoint=https://127.0.0.1:$(cat port) \
	    -O region=us-east-1 -O access-key-id=x -O ca-file=$PWD/cert.pem s3://b/db 2>err &&
	test_cmp /dev/null err
'

test_expect_success 'skip-verify goes on, with a warning' '
	test_expect_code 1 ls-list -O endpoint=https://127.0.0.1:$(cat port) \
	    -O region=us-east-1 -O access-key-id=x -O skip-verify=true s3://b/db 2>err &&
	echo "ls-list: warning: skip-verify: TLS certificates of s3://b/db are not checked" >expect &&
	test_cmp expect err
'

test_done
