#!/bin/sh
test_description='Azure AD bearer tokens against Azurite over HTTPS (--oauth basic): service principal, App Service, instance metadata, az; refresh'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-abs.sh"

abs_setup --oauth

dump() { sql "$1" .dump | grep -v _litestream_ | md5sum; }

server() {
	_n=$1
	shift
	rm -f "$TRASH/$_n.port" "$TRASH/$_n.log"
	az-token-server --port-file "$TRASH/$_n.port" --log "$TRASH/$_n.log" \
	    --max-seconds 240 "$@" >"$TRASH/$_n.out" 2>&1 &
	echo $! >"$TRASH/$_n.pid"
	test_atexit "kill $!"
	wait_for test -s "$TRASH/$_n.port"
}
port() { cat "$TRASH/$1.port"; }
issued() { grep -c '^issue ' "$TRASH/$1.log" || :; }

O="-O endpoint=$ABS_ENDPOINT -O ca-file=$ABS_CERT"
URL=abs://devstoreaccount1@ls-test/oauth
SHIPPER=ls-ship-abs
export SHIPPER

test_expect_success ABS_OAUTH 'setup: a container, a database' '
	abs_container ls-test &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(x)" >/dev/null
'

test_expect_success ABS_OAUTH 'a service principal: replicate over https with tokens that expire, refreshed' '
	server aad --jwt --mode aad --tenant tnt --client-id cid --secret s3cr3t --lifetime 6 &&
	(
		export AZURE_CLIENT_ID=cid AZURE_TENANT_ID=tnt AZURE_CLIENT_SECRET=s3cr3t \
		    AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port aad)/ &&
		start_pipeline "-i 50ms db spool" "-v -r 0 $O spool $URL" &&
		i=0 && while [ $i -lt 16 ]; do
			sql db "INSERT INTO t VALUES ($i)" || exit 1
			sleep 0.5; i=$((i + 1))
		done &&
		stop_pipeline
	) &&
	grep -qx "ls-ship-abs: info: credentials from service principal (AZURE_CLIENT_SECRET)" ship.err &&
	test $(issued aad) -ge 2 &&
	! grep -q "refused\|s3cr3t" ship.err &&
	LS_ACCOUNT_KEY=$ABS_KEY ls-restore $O -o r.db $URL &&
	test "$(dump r.db)" = "$(dump db)"
'

test_expect_success ABS_OAUTH 'App Service / Container Apps identity' '
	server app --jwt --mode appservice --header idh &&
	IDENTITY_ENDPOINT=http://127.0.0.1:$(port app)/msi/token IDENTITY_HEADER=idh \
	    ls-list -v $O $URL >list 2>err &&
	test $(wc -l <list) = 1 && test $(issued app) = 1 &&
	grep "credentials from" err
'

test_expect_success ABS_OAUTH 'the instance metadata endpoint' '
	server imds --jwt --mode imds &&
	AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$(port imds) \
	    ls-restore -v $O -o r2.db $URL 2>err4 &&
	test "$(dump r2.db)" = "$(dump db)" &&
	test $(issued imds) = 1 &&
	test "$(grep -c "credentials from managed identity (IMDS)" err4)" = 1
'

test_expect_success ABS_OAUTH 'the Azure CLI' '
	mkdir -p bin &&
	tok=$(abs_token 600) &&
	printf "#!/bin/sh\necho \"\$*\" >>%s/az.args\nprintf %s\n" "$PWD" \
	    "'"'"'{\"accessToken\": \"$tok\", \"expiresOn\": \"2099-01-01 00:00:00.000000\", \"expires_on\": 4070908800}\\n'"'"'" >bin/az &&
	chmod +x bin/az &&
	PATH=$PWD/bin:$PATH ls-list -v $O $URL >list3 2>err &&
	test $(wc -l <list3) = 1 &&
	grep -q "account get-access-token --resource https://storage.azure.com/" az.args &&
	grep "credentials from" err
'

test_expect_success ABS_OAUTH 'a token the service refuses: exit 100, no token printed' '
	server bad --mode appservice --header h2 &&
	test_expect_code 100 env IDENTITY_ENDPOINT=http://127.0.0.1:$(port bad)/msi/token IDENTITY_HEADER=h2 \
	    ls-list $O $URL 2>err &&
	test $(wc -l <err) = 1 &&
	grep -q "^ls-list: fatal: abs://devstoreaccount1@ls-test: LIST oauth/generations/ refused: " err &&
	! grep -q "tok-" err
'

test_expect_success ABS_OAUTH 'tokens never go over plain http' '
	test_expect_code 100 env IDENTITY_ENDPOINT=http://127.0.0.1:$(port app)/msi/token IDENTITY_HEADER=idh \
	    ls-list -O endpoint=http://127.0.0.1:9/devstoreaccount1 $URL 2>err &&
	echo "ls-list: fatal: abs://devstoreaccount1@ls-test: Azure AD tokens go only over https (an http endpoint needs account-key or sas-token)" >expect &&
	test_cmp expect err
'

test_done
