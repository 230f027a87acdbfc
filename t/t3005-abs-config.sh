#!/bin/sh
test_description='Azure replicas by config (the seeds forms), secrets out of argv, SAS tokens'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-abs.sh"

abs_setup

kids() { pgrep -P "$(cat rep.pid)" -x "$1"; }

# sas PERMS: an account SAS for the blob service, signed with the key.
sas() {
	python3 - "$1" <<-'EOF'
	import base64, hashlib, hmac, os, sys, time
	from urllib.parse import quote
	acct, key = os.environ["ABS_ACCOUNT"], os.environ["ABS_KEY"]
	sp, ss, srt, sv = sys.argv[1], "b", "sco", "2019-12-12"
	se = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
	sts = "\n".join([acct, sp, ss, srt, "", se, "", "https,http", sv, ""])
	sig = base64.b64encode(hmac.new(base64.b64decode(key), sts.encode(),
	                                hashlib.sha256).digest()).decode()
	print("sv=%s&ss=%s&srt=%s&sp=%s&se=%s&spr=https,http&sig=%s" % (
	    sv, ss, srt, sp, quote(se, safe=""), quote(sig, safe="")))
	EOF
}

test_expect_success ABS 'the seeds config, URL form: the key reaches the shipper in its environment' '
	abs_container ls-test &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null &&
	cat >url.conf <<-EOC &&
	[db]
	path = $PWD/db
	monitor-interval = 50ms
	[replica]
	url = abs://devstoreaccount1@ls-test/url
	account-key = \${AZ_KEY}
	endpoint = $ABS_ENDPOINT
	EOC
	AZ_KEY=$ABS_KEY ls-replicate -n -config url.conf &&
	{ AZ_KEY=$ABS_KEY ls-replicate -d 3 -config url.conf 3>ready 2>rep.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready &&
	sql db "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)" &&
	ship=$(kids ls-ship-abs) && test -n "$ship" &&
	tr "\0" "\n" </proc/$ship/cmdline >argv &&
	! grep -q "$ABS_KEY" argv &&
	tr "\0" "\n" </proc/$ship/environ | grep -qx "LS_ACCOUNT_KEY=$ABS_KEY" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	LITESTREAM_AZURE_ACCOUNT_KEY=$ABS_KEY ls-restore -O endpoint=$ABS_ENDPOINT -o r.db abs://devstoreaccount1@ls-test/url &&
	test "$(sql r.db "SELECT group_concat(x) FROM t")" = "1,2"
'

test_expect_success ABS 'the seeds config, expanded form with account-key-file' '
	printf "%s\n" "$ABS_KEY" >key && chmod 600 key &&
	cat >exp.conf <<-EOC &&
	[db]
	path = $PWD/db
	monitor-interval = 50ms
	[replica]
	type = abs
	account-name = devstoreaccount1
	account-key-file = $PWD/key
	bucket = ls-test
	path = expanded
	endpoint = $ABS_ENDPOINT
	EOC
	{ ls-replicate -d 3 -config exp.conf 3>ready2 2>rep2.err & } &&
	echo $! >rep.pid && test_atexit "kill -9 $(cat rep.pid)" &&
	wait_for test -s ready2 &&
	sql db "INSERT INTO t VALUES (3)" &&
	kill -TERM $(cat rep.pid) && wait_for eval "! alive $(cat rep.pid)" &&
	ls-restore -O endpoint=$ABS_ENDPOINT -O account-key-file=$PWD/key -o r2.db abs://devstoreaccount1@ls-test/expanded &&
	test "$(sql r2.db "SELECT group_concat(x) FROM t")" = "1,2,3"
'

test_expect_success ABS 'a SAS token (sas-token-file) instead of the key' '
	sas racwdl >sas.tok &&
	ls-list -O endpoint=$ABS_ENDPOINT -O sas-token-file=$PWD/sas.tok abs://devstoreaccount1@ls-test/expanded >list &&
	test $(wc -l <list) = 1 &&
	LS_SAS_TOKEN=$(cat sas.tok) ls-restore -O endpoint=$ABS_ENDPOINT -o r3.db abs://devstoreaccount1@ls-test/expanded &&
	test "$(sql r3.db "SELECT group_concat(x) FROM t")" = "1,2,3"
'

test_expect_success ABS 'a read-only SAS token: shipping is refused, exit 100' '
	sas rl >ro.tok &&
	test_expect_code 100 env LS_SAS_TOKEN="$(cat ro.tok)" ls-ship-abs -1 -n ro -O endpoint=$ABS_ENDPOINT .db-ls abs://devstoreaccount1@ls-test/ro 2>err &&
	grep -q "^ls-ship-abs: fatal: abs://devstoreaccount1@ls-test: PUT ro/generations/.* refused: Authorization" err &&
	! grep -q "sig=" err
'

test_expect_success ABS 'config errors for Azure keys, with the line' '
	printf "[db]\npath = db\n[replica]\ntype = abs\naccount-name = a\naccount-key = x\naccount-key-file = /k\nbucket = ls-test\n" >bad.conf &&
	test_expect_code 100 ls-replicate -n -config bad.conf 2>err &&
	echo "ls-replicate: fatal: bad.conf:6: account-key and account-key-file both given" >expect &&
	test_cmp expect err &&
	printf "[db]\npath = db\n[replica]\nurl = abs://a@BAD/x\n" >bad2.conf &&
	test_expect_code 100 ls-replicate -n -config bad2.conf 2>err &&
	echo "ls-replicate: fatal: bad2.conf:3: abs://a@BAD/x: '"'"'BAD'"'"' is not a container name (3 to 63 of a-z, 0-9 and single inner dashes)" >expect &&
	test_cmp expect err
'

test_done
