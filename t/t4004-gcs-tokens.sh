#!/bin/sh
test_description='GCS with credentials: every storage request must carry the token a checked service-account JWT (or the metadata server, or a refresh token) earned'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-gcs.sh"

if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP openssl not found"
	exit 0
fi

gcs_setup && gcs_proxy_start --token none

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }
SA=ls-test@ls-project.iam.gserviceaccount.com
KID=0123456789abcdef0123456789abcdef01234567

server() {
	_n=$1
	shift
	rm -f "$TRASH/$_n.port" "$TRASH/$_n.log"
	gcp-token-server --port-file "$TRASH/$_n.port" --log "$TRASH/$_n.log" \
	    --max-seconds 240 "$@" >"$TRASH/$_n.out" 2>&1 &
	echo $! >"$TRASH/$_n.pid"
	test_atexit "kill $!"
	wait_for test -s "$TRASH/$_n.port"
}
port() { cat "$TRASH/$1.port"; }
issued() { grep -c '^issue ' "$TRASH/$1.log" || :; }

# The proxy takes the first 30 tokens a server hands out.
accept_all() {
	_l=
	for _i in $(seq 1 30); do _l="$_l ya29.test-$_i"; done
	# shellcheck disable=SC2086
	gcs_tokens $_l
}

O="-O endpoint=$GCS_ENDPOINT"
SHIPPER=ls-ship-gcs
export SHIPPER

test_expect_success GCSPROXY 'setup: a service-account key, its token endpoint, a database' '
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.pem 2>/dev/null &&
	openssl pkey -in sa.pem -pubout -out sa.pub &&
	server sa --public-key sa.pub --client-email $SA --key-id $KID --lifetime 6 &&
	python3 -c "
import json, sys
k = {\"type\": \"service_account\", \"project_id\": \"ls-project\",
     \"private_key_id\": \"$KID\", \"private_key\": open(\"sa.pem\").read(),
     \"client_email\": \"$SA\", \"client_id\": \"1\",
     \"token_uri\": \"http://127.0.0.1:$(port sa)/token\"}
json.dump(k, open(\"key.json\", \"w\"))
" &&
	chmod 600 key.json &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null
'

test_expect_success GCSPROXY 'without a token the proxy refuses: exit 100, one line' '
	gcs_tokens ya29.never &&
	test_expect_code 100 env GOOGLE_APPLICATION_CREDENTIALS=$PWD/key.json ls-list $O gs://ls-test/sa 2>err &&
	test $(wc -l <err) = 1 &&
	grep -q "^ls-list: fatal: gs://ls-test: LIST sa/generations/ refused: 401 " err &&
	! grep -q "ya29" err
'

test_expect_success GCSPROXY 'a service account: replicate with tokens that expire and are fetched again' '
	accept_all &&
	: >"$GCS_PROXY_LOG" &&
	(
		export GOOGLE_APPLICATION_CREDENTIALS=$PWD/key.json &&
		start_pipeline "-i 50ms db spool" "-v -r 0 $O spool gs://ls-test/sa" &&
		i=0 && while [ $i -lt 16 ]; do
			sql db "INSERT INTO t VALUES ($i)" || exit 1
			sleep 0.5; i=$((i + 1))
		done &&
		stop_pipeline
	) &&
	grep -q "info: credentials from GOOGLE_APPLICATION_CREDENTIALS file .*key.json (service account $SA)" ship.err &&
	test $(issued sa) -ge 2 &&
	! grep -q "auth=" "$GCS_PROXY_LOG" &&
	test $(grep -c "^POST /upload/" "$GCS_PROXY_LOG") -ge 10 &&
	GOOGLE_APPLICATION_CREDENTIALS=$PWD/key.json ls-restore $O -o r.db gs://ls-test/sa &&
	test "$(dump r.db)" = "$(dump db)"
'

test_expect_success GCSPROXY 'only the newest tokens: an expired one is not used' '
	n=$(issued sa) &&
	gcs_tokens ya29.test-$((n + 1)) &&
	GOOGLE_APPLICATION_CREDENTIALS=$PWD/key.json ls-list $O gs://ls-test/sa >list &&
	test $(wc -l <list) = 1
'

test_expect_success GCSPROXY 'the metadata server' '
	server meta --metadata &&
	accept_all &&
	GCE_METADATA_HOST=127.0.0.1:$(port meta) ls-restore -v $O -o r2.db gs://ls-test/sa 2>err &&
	test "$(dump r2.db)" = "$(dump db)" &&
	test $(issued meta) = 1 &&
	grep -q "credentials from GCE metadata server" err
'

test_expect_success GCSPROXY 'an authorized user (gcloud ADC file) with a refresh token' '
	printf "{\"client_id\": \"cid\", \"client_secret\": \"csec\", \"refresh_token\": \"rtok\"}\n" >user-want.json &&
	server user --user user-want.json &&
	mkdir -p "$HOME/.config/gcloud" &&
	printf "{\"type\": \"authorized_user\", \"client_id\": \"cid\", \"client_secret\": \"csec\", \"refresh_token\": \"rtok\", \"token_uri\": \"http://127.0.0.1:%s/token\"}\n" $(port user) \
	    >"$HOME/.config/gcloud/application_default_credentials.json" &&
	ls-list -v $O gs://ls-test/sa >list2 2>err &&
	test $(wc -l <list2) = 1 &&
	grep -q "credentials from gcloud ADC file" err &&
	! grep -q "csec\|rtok" err
'

test_done
