#!/bin/sh
test_description='abs peers: Azurite (http, https with oauth), abs-client, s3-proxy in front'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-abs.sh"

abs_setup && abs_proxy_start --faults faults

# listening PORT: the TCP listeners on PORT, as ADDR:PORT in hex.
listening() {
	awk -v p=":$(printf %04X "$1")" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# logged LINE: the proxy has logged exactly LINE.
logged() { grep -qxF "$1" "$ABS_PROXY_LOG"; }

# fails CODE 'STDERR' CMD...: CMD exits with CODE and says exactly STDERR.
fails() {
	_code=$1 _msg=$2; shift 2
	test_expect_code "$_code" "$@" 2>err || { cat err >&2; return 1; }
	printf '%s\n' "$_msg" >err.want &&
	test_cmp err.want err
}

# proxied OP ARG...: abs-client through the proxy.
proxied() { abs_client "$ABS_ENDPOINT" "$@"; }

test_expect_success 'abs-client: a usage error exits 100' '
	test_expect_code 100 abs-client 2>err &&
	grep -q "^usage: abs-client mkcontainer CONTAINER$" err &&
	test_expect_code 100 abs-client ls 2>err &&
	test_expect_code 100 abs-client put c b 2>err &&
	test_expect_code 100 abs-client token 0 2>err &&
	fails 100 "abs-client: ABS_ENDPOINT must be http[s]://127.0.0.1:PORT/ACCOUNT" \
	    env ABS_ENDPOINT=http://localhost:1/x abs-client ls c
'

test_expect_success ABS 'Azurite runs on 127.0.0.1 only, path-style' '
	echo "0100007F:$(printf %04X $ABS_PORT)" >want &&
	listening $ABS_PORT >got &&
	test_cmp want got &&
	test "$AZURITE_ENDPOINT" = "http://127.0.0.1:$ABS_PORT/devstoreaccount1" &&
	test "$ABS_ACCOUNT" = devstoreaccount1 &&
	test -z "${ABS_CERT:-}" &&
	abs_running $AZURITE_PID &&
	grep -qx "Azurite Blob service successfully listens on http://127.0.0.1:$ABS_PORT" \
	    "$TRASH/azurite.log"
'

test_expect_success ABS 'a container is created once' '
	abs_container ls-test &&
	abs_container ab1 &&
	fails 1 "abs-client: 409 ContainerAlreadyExists" abs_container ls-test
'

test_expect_success ABS 'a blob is put, listed, read and deleted' '
	echo hello >hello &&
	: >empty &&
	head -c 1048577 /dev/urandom >big &&
	abs_put ls-test hello.txt hello &&
	abs_put ls-test "dir/odd name+a=b~c%d&e.txt" hello &&
	abs_put ls-test dir/empty empty &&
	abs_put ls-test dir/big.bin big &&
	abs_put ab1 elsewhere hello &&
	abs_ls ls-test >got &&
	cat >want <<-\EOF &&
	dir/big.bin
	dir/empty
	dir/odd name+a=b~c%d&e.txt
	hello.txt
	EOF
	test_cmp want got &&
	abs_ls ls-test dir/o >got &&
	echo "dir/odd name+a=b~c%d&e.txt" >want &&
	test_cmp want got &&
	abs_cat ls-test "dir/odd name+a=b~c%d&e.txt" >got &&
	test_cmp hello got &&
	abs_cat ls-test dir/empty >got &&
	test_cmp empty got &&
	abs_cat ls-test dir/big.bin >got &&
	cmp big got &&
	abs_rm ls-test dir/empty &&
	abs_ls ls-test dir/ >got &&
	printf "%s\n" dir/big.bin "dir/odd name+a=b~c%d&e.txt" >want &&
	test_cmp want got &&
	abs_ls ab1 >got &&
	echo elsewhere >want &&
	test_cmp want got
'

test_expect_success ABS 'a listing is followed across pages' '
	for i in 1 2 3 4 5; do
		abs_put ls-test page/$i hello || return 1
	done &&
	(export ABS_LIST_MAX_RESULTS=2 && abs_ls ls-test page/) >got &&
	printf "page/%s\n" 1 2 3 4 5 >want &&
	test_cmp want got &&
	(export ABS_LIST_MAX_RESULTS=2 && abs_ls ls-test "") >got &&
	abs_ls ls-test >want &&
	test_cmp want got &&
	grep -a "STRING TO SIGN" "$TRASH/azurite.debug" |
	    grep -q "/ls-test.ncomp:list.nmarker:[^\\]*.nmaxresults:2.nprefix:page/.nrestype:container\"$"
'

test_expect_success ABS 'missing blobs and containers are 404 with their codes' '
	fails 1 "abs-client: 404 BlobNotFound" abs_cat ls-test nothing &&
	fails 1 "abs-client: 404 BlobNotFound" abs_rm ls-test nothing &&
	fails 1 "abs-client: 404 ContainerNotFound" abs_ls nothing &&
	fails 1 "abs-client: 404 ContainerNotFound" abs_put nothing x hello
'

# The debug log holds each string to sign as a JSON string: \n is a
# backslash and an n there.
test_expect_success ABS 'the string to sign names the account twice' '
	grep -aF "[STRING TO SIGN]:\"PUT\\n\\n\\n6\\n\\n\\n\\n\\n\\n\\n\\n\\nx-ms-blob-type:BlockBlob\\nx-ms-date:" \
	    "$TRASH/azurite.debug" >sts &&
	grep -qF "\\n/devstoreaccount1/devstoreaccount1/ls-test/hello.txt\"" sts
'

test_expect_success ABS 'a wrong key gets 403 AuthorizationFailure; nothing is stored' '
	other=$(printf "%064d" 0 | base64 -w0) &&
	fails 1 "abs-client: 403 AuthorizationFailure" \
	    env ABS_ENDPOINT="$AZURITE_ENDPOINT" ABS_KEY="$other" \
	    abs-client put ls-test forged hello &&
	fails 1 "abs-client: 403 AuthorizationFailure" \
	    env ABS_ENDPOINT="$AZURITE_ENDPOINT" ABS_KEY="$other" \
	    abs-client ls ls-test &&
	fails 1 "abs-client: 403 AuthorizationFailure" \
	    env ABS_ENDPOINT="$AZURITE_ENDPOINT" ABS_ACCOUNT=devstoreaccount2 \
	    abs-client ls ls-test &&
	abs_ls ls-test >got &&
	! grep -q forged got &&
	grep -q "Validation failed" "$TRASH/azurite.debug"
'

test_expect_success ABS 'an unsigned request gets 403 AuthorizationFailure' '
	curl -sS -D head -o body -w "%{http_code}\n" \
	    "$AZURITE_ENDPOINT/ls-test/hello.txt" >code &&
	echo 403 >want &&
	test_cmp want code &&
	grep -qi "^x-ms-error-code: AuthorizationFailure" head &&
	grep -q "<Code>AuthorizationFailure</Code>" body
'

test_expect_success ABS 'Put Blob without Content-Length (chunked) is refused' '
	curl -sS -o body -w "%{http_code}\n" -T hello \
	    -H "Transfer-Encoding: chunked" -H "x-ms-blob-type: BlockBlob" \
	    "$AZURITE_ENDPOINT/ls-test/chunked" >code &&
	echo 400 >want &&
	test_cmp want code &&
	abs_ls ls-test >got &&
	! grep -q chunked got
'

test_expect_success ABSPROXY 's3-proxy runs on 127.0.0.1 only and passes requests' '
	echo "0100007F:$(printf %04X $ABS_PROXY_PORT)" >want &&
	listening $ABS_PROXY_PORT >got &&
	test_cmp want got &&
	test "$ABS_ENDPOINT" = "http://127.0.0.1:$ABS_PROXY_PORT/devstoreaccount1" &&
	proxied put ls-test via/proxy.bin big &&
	proxied cat ls-test via/proxy.bin >got &&
	cmp big got &&
	proxied ls ls-test via/ >got &&
	echo via/proxy.bin >want &&
	test_cmp want got &&
	proxied rm ls-test via/proxy.bin &&
	logged "PUT /devstoreaccount1/ls-test/via/proxy.bin - 201" &&
	logged "GET /devstoreaccount1/ls-test/via/proxy.bin - 200" &&
	logged "GET /devstoreaccount1/ls-test restype=container&comp=list&prefix=via%2F 200" &&
	logged "DELETE /devstoreaccount1/ls-test/via/proxy.bin - 202" &&
	fails 1 "abs-client: 403 AuthorizationFailure" \
	    env ABS_KEY="$(printf "%064d" 0 | base64 -w0)" \
	    ABS_ENDPOINT="$ABS_ENDPOINT" abs-client ls ls-test
'

test_expect_success ABSPROXY 'fault 503 twice: 503, 503, then the blob' '
	abs_faults "GET ls-test/hello.txt 503 2" &&
	fails 1 "abs-client: 503 SlowDown" proxied cat ls-test hello.txt &&
	fails 1 "abs-client: 503 SlowDown" proxied cat ls-test hello.txt &&
	proxied cat ls-test hello.txt >got &&
	test_cmp hello got &&
	test $(grep -c "^GET /devstoreaccount1/ls-test/hello.txt - 503 fault=503$" "$ABS_PROXY_LOG") = 2 &&
	abs_faults
'

test_expect_success ABSPROXY 'fault reset: the connection drops, then requests pass' '
	abs_faults "GET ls-test/hello.txt reset" &&
	fails 111 "abs-client: unable to GET /devstoreaccount1/ls-test/hello.txt: Connection reset by peer" \
	    proxied cat ls-test hello.txt &&
	proxied cat ls-test hello.txt >got &&
	test_cmp hello got &&
	logged "GET /devstoreaccount1/ls-test/hello.txt - - fault=reset" &&
	abs_faults
'

test_expect_success ABSPROXY 'rules select on the whole path and on a query parameter' '
	abs_faults "PUT?restype /devstoreaccount1/* 503" \
	    "PUT /devstoreaccount1/ls-test/up/* reset-mid-upload" &&
	fails 1 "abs-client: 503 SlowDown" proxied mkcontainer ab2 &&
	proxied mkcontainer ab2 &&
	test_expect_code 111 proxied put ls-test up/big.bin big 2>err &&
	grep -q "^abs-client: unable to PUT /devstoreaccount1/ls-test/up/big.bin: " err &&
	abs_ls ls-test up/ >got &&
	! test -s got &&
	proxied put ls-test up/big.bin big &&
	abs_cat ls-test up/big.bin >got &&
	cmp big got &&
	logged "PUT /devstoreaccount1/ab2 restype=container 503 fault=503" &&
	logged "PUT /devstoreaccount1/ab2 restype=container 201" &&
	logged "PUT /devstoreaccount1/ls-test/up/big.bin - - fault=reset-mid-upload" &&
	abs_faults
'

test_expect_success ABS 'the proxy and Azurite stop' '
	abs_proxy_stop &&
	abs_stop &&
	! abs_running $ABS_PROXY_PID &&
	! abs_running $AZURITE_PID &&
	test "$ABS_ENDPOINT" = "$AZURITE_ENDPOINT" &&
	test_expect_code 7 curl -sS -o /dev/null "http://127.0.0.1:$ABS_PROXY_PORT/" &&
	test_expect_code 7 curl -sS -o /dev/null "$AZURITE_ENDPOINT"
'

stopped="${AZURITE_PID:-} ${ABS_PROXY_PID:-}"

# The same again over HTTPS, with bearer tokens taken too.
abs_setup --https --oauth && abs_proxy_start

test_expect_success ABS_OAUTH 'Azurite over HTTPS with a certificate for 127.0.0.1' '
	echo "0100007F:$(printf %04X $ABS_PORT)" >want &&
	listening $ABS_PORT >got &&
	test_cmp want got &&
	test "$AZURITE_ENDPOINT" = "https://127.0.0.1:$ABS_PORT/devstoreaccount1" &&
	openssl x509 -in "$ABS_CERT" -noout -ext subjectAltName >san &&
	grep -q "IP Address:127.0.0.1" san &&
	curl -sS -o /dev/null --cacert "$ABS_CERT" "$AZURITE_ENDPOINT?comp=list" &&
	test_expect_code 60 curl -sS -o /dev/null "$AZURITE_ENDPOINT?comp=list" \
	    2>err &&
	test_expect_code 111 env ABS_CERT=/etc/ssl/certs/ca-certificates.crt \
	    ABS_ENDPOINT="$AZURITE_ENDPOINT" abs-client ls ls-test 2>err &&
	grep -q "CERTIFICATE_VERIFY_FAILED" err &&
	fails 100 "abs-client: ABS_CERT is not set, for an https endpoint" \
	    env -u ABS_CERT ABS_ENDPOINT="$AZURITE_ENDPOINT" abs-client ls ls-test
'

# With --oauth, a Shared Key that fails is next offered to the token
# check, which refuses any scheme but Bearer with 400 InvalidAuthenticationInfo.
test_expect_success ABS_OAUTH 'Shared Key works over HTTPS; a wrong key is 400 with --oauth' '
	echo hello >hello &&
	abs_container ls-test &&
	abs_put ls-test key.txt hello &&
	abs_cat ls-test key.txt >got &&
	test_cmp hello got &&
	fails 1 "abs-client: 400 InvalidAuthenticationInfo" \
	    env ABS_ENDPOINT="$AZURITE_ENDPOINT" \
	    ABS_KEY="$(printf "%064d" 0 | base64 -w0)" abs-client ls ls-test
'

test_expect_success ABS_OAUTH 'a bearer token works over HTTPS' '
	ABS_TOKEN=$(abs_token) &&
	export ABS_TOKEN &&
	abs_put ls-test token.txt hello &&
	abs_cat ls-test token.txt >got &&
	test_cmp hello got &&
	abs_ls ls-test >got &&
	printf "%s\n" key.txt token.txt >want &&
	test_cmp want got &&
	abs_rm ls-test token.txt &&
	grep -q "Validation against token authentication successfully" \
	    "$TRASH/azurite.debug"
'

test_expect_success ABS_OAUTH 'a bad or expired token gets 403 AuthenticationFailed' '
	fails 1 "abs-client: 403 AuthenticationFailed" \
	    env ABS_ENDPOINT="$AZURITE_ENDPOINT" ABS_TOKEN=not-a-jwt \
	    abs-client ls ls-test &&
	ABS_TOKEN=$(abs_token 1) &&
	export ABS_TOKEN &&
	sleep 2 &&
	fails 1 "abs-client: 403 AuthenticationFailed" abs_ls ls-test &&
	grep -q "The token is expired" "$TRASH/azurite.debug"
'

test_expect_success ABSPROXY,ABS_OAUTH 'the proxy forwards to Azurite over HTTPS' '
	: >"$ABS_PROXY_LOG" &&
	test "$ABS_ENDPOINT" = "http://127.0.0.1:$ABS_PROXY_PORT/devstoreaccount1" &&
	proxied cat ls-test key.txt >got &&
	test_cmp hello got &&
	ABS_TOKEN=$(abs_token) proxied ls ls-test >got &&
	echo key.txt >want &&
	test_cmp want got &&
	logged "GET /devstoreaccount1/ls-test/key.txt - 200" &&
	logged "GET /devstoreaccount1/ls-test restype=container&comp=list 200"
'

test_expect_success ABS_OAUTH 'the proxy and Azurite stop' '
	abs_proxy_stop &&
	abs_stop &&
	test_expect_code 7 curl -sS -o /dev/null "http://127.0.0.1:$ABS_PROXY_PORT/" &&
	test_expect_code 7 curl -sS -o /dev/null --cacert "$ABS_CERT" "$AZURITE_ENDPOINT"
'

stopped="$stopped ${AZURITE_PID:-} ${ABS_PROXY_PID:-}"

test_expect_success 'every server this script started has stopped' '
	for pid in $stopped; do
		! abs_running $pid || { echo "$pid still runs" >&2; return 1; }
	done &&
	for f in /proc/[0-9]*/cmdline; do
		! tr "\0" " " <$f 2>/dev/null |
		    grep -q -e "--location $TRASH/azurite" -e "$TRASH/abs-proxy" ||
		    { echo "$f: still runs" >&2; return 1; }
	done
'

test_done
