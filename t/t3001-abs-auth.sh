#!/bin/sh
test_description='Azure auth: Shared Key (known answers, an independent signer, Azurite) and the Azure AD token chain'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-abs.sh"

# Only 127.0.0.1 is ever contacted: lib.sh points IMDS
# (AZURE_POD_IDENTITY_AUTHORITY_HOST), the App Service endpoint and the
# Azure AD authority at a dead local port; the servers below are local; az
# is looked up only in a directory made here.

E='azauth: fatal: unable to get an Azure AD token:'
AZ=$TOP/t/unit/azauth

# tok ARGS...: runs the token chain (azauth -T) with stdout in out and
# stderr in err, az looked up in $AZPATH (default: an empty directory); all
# of its output is also kept in all.log, which must never hold a secret.
tok() {
	PATH=${AZPATH:-$TRASH/noaz} "$AZ" -T "$@" >out 2>err
	_rc=$?
	cat out err >>"$TRASH/all.log"
	return $_rc
}

# sha8 TOKEN: what the driver prints for TOKEN.
sha8() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# iso EPOCH: the driver's form of a time.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# server NAME ARGS...: starts az-token-server with ARGS, port in NAME.port,
# log in NAME.log; stopped when the script ends.
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

# issued NAME: how many tokens server NAME handed out.
issued() { grep -c '^issue ' "$TRASH/$1.log" || :; }

# expiry NAME N: the expiry of server NAME's Nth token, as the driver
# prints it.
expiry() { iso "$(grep "^issue $2 " "$TRASH/$1.log" | cut -d' ' -f5)"; }

mkdir -p noaz

# Shared Key.

test_expect_success 'known answers (published and hand-made vectors)' '
	"$AZ" >tap &&
	cat tap &&
	! grep "^not ok" tap &&
	grep "^1\.\.[0-9]" tap
'

test_expect_success 'x-ms-date values' '
	"$AZ" -D 1440938160 >out &&
	echo "Sun, 30 Aug 2015 12:36:00 GMT" >expect &&
	test_cmp expect out &&
	"$AZ" -D 0 >out &&
	echo "Thu, 01 Jan 1970 00:00:00 GMT" >expect &&
	test_cmp expect out
'

printf '%s\n' "$ABS_KEY" >devkey

test_expect_success 'the Node SDK vector through the command line' '
	"$AZ" -S -m GET -p container -q restype=container -k devkey \
	    -H "Content-Type: " -H "x-ms-version: 2011-08-18" \
	    -H "x-ms-date: Fri, 23 Sep 2011 01:37:34 GMT" >out &&
	cat >expect <<-\EOF &&
	Authorization: SharedKey devstoreaccount1:Y5R86+6XE5MH602SIyjeTwlJuQjbawv20PT4kb/F/04=
	GET











	x-ms-date:Fri, 23 Sep 2011 01:37:34 GMT
	x-ms-version:2011-08-18
	/devstoreaccount1container
	restype:container
	EOF
	test_cmp expect out
'

test_expect_success 'a request it refuses: exit 100, nothing on stdout' '
	test_expect_code 100 "$AZ" -S -k devkey -p /c \
	    -H "x-ms-date: Sun, 30 Aug 2015 12:36:00 GMT" \
	    -H "Date: Sun, 30 Aug 2015 12:36:00 GMT" >out 2>err &&
	echo "azauth: fatal: unable to sign: Invalid argument" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out
'

test_expect_success 'as Python signs, for 2000 requests' '
	az-sharedkey-check "$AZ" -n 2000 >out &&
	tail -n 2 out &&
	echo "2000 requests, 0 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual &&
	refused=$(sed -n "s/^\([0-9]*\) of them refused by both$/\1/p" out) &&
	test "$refused" -gt 100 && test "$refused" -lt 500
'

test_expect_success 'as Python signs, with another seed' '
	az-sharedkey-check "$AZ" -n 2000 -seed 20260101 >out &&
	echo "2000 requests, 0 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual
'

test_expect_success 'a header Python signs differently is caught' '
	test_expect_code 1 az-sharedkey-check "$AZ" -n 200 -tamper >out &&
	grep "^mismatch in request" out >m &&
	test "$(wc -l <m)" -eq 1 &&
	grep "^    |x-ms-meta-tamper:1\$" out &&
	grep "^    |x-ms-meta-tamper:2\$" out &&
	echo "200 requests, 1 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual
'

# Shared Key against Azurite, which checks every signature.

abs_setup

# azurite ARGS...: one request to Azurite signed with the account key, at
# the time in $DATE: "HTTP STATUS" and the body in out.
azurite() {
	"$AZ" -S -u "http://127.0.0.1:$ABS_PORT" -k "$TRASH/${KEYFILE:-devkey}" \
	    -H "x-ms-version: 2023-11-03" -H "x-ms-date: $DATE" "$@" >out
}

# last_sts: the string to sign of Azurite's last Shared Key request, from
# its debug log, with a final LF.
last_sts() {
	grep -F "[STRING TO SIGN]:" "$TRASH/azurite.debug" | tail -n 1 |
	sed 's/^.*\[STRING TO SIGN\]://' |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.read()))'
}

BLOB=/devstoreaccount1/auth-test/dir/a%20b%2Bc%25%C3%A9.txt

test_expect_success ABS 'Azurite: Create Container' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	azurite -m PUT -p /devstoreaccount1/auth-test -q restype=container &&
	head -n 1 out >status &&
	echo "HTTP 201" >expect &&
	test_cmp expect status
'

test_expect_success ABS 'Azurite: Put Blob with every kind of signed header' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	printf "hello world" >body &&
	azurite -m PUT -p "$BLOB" -b body -H "x-ms-blob-type: BlockBlob" \
	    -H "Content-Type: text/plain; charset=utf-8" \
	    -H "Content-MD5: XrY7u+Ae7tCTyyK7j1rNww==" -H "If-None-Match: *" \
	    -H "x-ms-meta-a_b: 1" -H "x-ms-meta-a0: 2" -H "X-MS-META-Ab: 3" \
	    -H "x-ms-meta-_z: 4" -H "Content-Language: en" &&
	head -n 1 out >status &&
	echo "HTTP 201" >expect &&
	test_cmp expect status
'

test_expect_success ABS 'Azurite: its string to sign is ours, byte for byte' '
	last_sts >theirs &&
	"$AZ" -S -m PUT -p "$BLOB" -k devkey -H "x-ms-version: 2023-11-03" \
	    -H "x-ms-date: $(sed -n "s/^x-ms-date://p" theirs)" \
	    -H "x-ms-blob-type: BlockBlob" \
	    -H "Content-Type: text/plain; charset=utf-8" \
	    -H "Content-MD5: XrY7u+Ae7tCTyyK7j1rNww==" -H "If-None-Match: *" \
	    -H "x-ms-meta-a_b: 1" -H "x-ms-meta-a0: 2" -H "X-MS-META-Ab: 3" \
	    -H "x-ms-meta-_z: 4" -H "Content-Language: en" \
	    -H "Content-Length: 11" >mine &&
	sed 1d mine >ours &&
	test_cmp ours theirs &&
	grep "^x-ms-meta-_z:4$" ours &&
	grep "^/devstoreaccount1/devstoreaccount1/auth-test/dir/a%20b%2Bc%25%C3%A9.txt$" ours
'

test_expect_success ABS 'Azurite: Get Blob with a Range' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	azurite -m GET -p "$BLOB" -H "Range: bytes=0-4" &&
	printf "HTTP 206\nhello" >expect &&
	test_cmp expect out
'

test_expect_success ABS 'Azurite: List Blobs with a decoded prefix and metadata' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	azurite -m GET -p /devstoreaccount1/auth-test \
	    -q "restype=container&comp=list&prefix=dir%2Fa+b&include=metadata&maxresults=10" &&
	head -n 1 out >status &&
	echo "HTTP 200" >expect &&
	test_cmp expect status &&
	grep "<Name>dir/a b+c%é.txt</Name>" out &&
	grep "<a_b>1</a_b><a0>2</a0><Ab>3</Ab><_z>4</_z>" out &&
	last_sts | tail -n 5 >theirs &&
	printf "comp:list\ninclude:metadata\nmaxresults:10\nprefix:dir/a b\nrestype:container\n" >expect &&
	test_cmp expect theirs
'

test_expect_success ABS 'Azurite: Get Blob Properties (HEAD) and Delete Blob' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	azurite -m HEAD -p "$BLOB" &&
	echo "HTTP 200" >expect &&
	test_cmp expect out &&
	azurite -m DELETE -p "$BLOB" &&
	echo "HTTP 202" >expect &&
	test_cmp expect out
'

test_expect_success ABS 'Azurite: a wrong key is refused (403)' '
	DATE=$("$AZ" -D "$(date +%s)") &&
	printf "%s\n" "$ABS_KEY" | sed "s/^E/F/" >wrongkey &&
	KEYFILE=wrongkey azurite -m GET -p /devstoreaccount1/auth-test \
	    -q "restype=container&comp=list" &&
	head -n 1 out >status &&
	echo "HTTP 403" >expect &&
	test_cmp expect status &&
	grep "<Code>AuthorizationFailure</Code>" out
'

# The token chain.

nothing="no Azure AD token source applies; tried service principal (AZURE_TENANT_ID unset), App Service (IDENTITY_HEADER unset), IMDS (unreachable: Couldn't connect to server), Azure CLI (az not on PATH)"

test_expect_success 'nothing configured: 100 at once, naming each source' '
	test_expect_code 100 timeout 5 env PATH="$TRASH/noaz" "$AZ" -T \
	    >out 2>err &&
	echo "$E $nothing" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out
'

# Source a: a service principal.

TENANT=72f988bf-86f1-41af-91ab-2d7cd011db47
CLIENT=ls-test-client

test_expect_success 'setup: Azure AD' '
	printf "eyJhbGciOiJSUzI1NiJ9.fed-token-body.sig\n" >fed-token &&
	server aad --mode aad --tenant $TENANT --client-id $CLIENT \
	    --secret "sp-secret-value" &&
	server aad4 --mode aad --tenant $TENANT --client-id $CLIENT \
	    --secret "sp-secret-value" --lifetime 4 &&
	server aadfed --mode aad --tenant $TENANT --client-id $CLIENT \
	    --assertion-file "$TRASH/fed-token" &&
	server aaddeny --mode aad --tenant $TENANT --client-id $CLIENT \
	    --secret "sp-secret-value" --deny &&
	server aadbusy --mode aad --tenant $TENANT --client-id $CLIENT \
	    --secret "sp-secret-value" --fail 2 &&
	server aaddown --mode aad --tenant $TENANT --client-id $CLIENT \
	    --secret "sp-secret-value" --fail 100
'

# sp NAME: the environment for a service principal against server NAME.
sp() {
	AZURE_TENANT_ID=$TENANT
	AZURE_CLIENT_ID=$CLIENT
	AZURE_CLIENT_SECRET=sp-secret-value
	AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port "$1")/
	export AZURE_TENANT_ID AZURE_CLIENT_ID AZURE_CLIENT_SECRET \
	    AZURE_AUTHORITY_HOST
}

test_expect_success 'service principal: client credentials' '
	sp aad &&
	tok &&
	sed "s/ expires=[^ ]* / /" out >got &&
	echo "token=$(sha8 tok-aad-1) source=service principal (AZURE_CLIENT_SECRET)" >expect &&
	test_cmp expect got &&
	test "$(issued aad)" = 1 &&
	grep "^issue 1 aad 3600 [0-9]* $CLIENT$" aad.log &&
	want=$(grep "^issue 1 " aad.log | cut -d" " -f5) &&
	got=$(date -u -d "$(sed "s/.* expires=\([^ ]*\) .*/\1/" out)" +%s) &&
	test $((got - want)) -ge -2 && test $((got - want)) -le 2
'

test_expect_success 'service principal: an authority without a final slash' '
	sp aad &&
	export AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port aad) &&
	tok &&
	grep "^token=$(sha8 tok-aad-2) " out
'

test_expect_success 'service principal: a wrong secret is refused (100)' '
	sp aad &&
	export AZURE_CLIENT_SECRET=wrong-secret-value &&
	test_expect_code 100 tok &&
	echo "$E service principal (AZURE_CLIENT_SECRET): 401 invalid_client (AADSTS7000215)" >expect &&
	test_cmp expect err
'

test_expect_success 'service principal: a wrong tenant is refused (100)' '
	sp aad &&
	export AZURE_TENANT_ID=contoso.onmicrosoft.com &&
	test_expect_code 100 tok &&
	echo "$E service principal (AZURE_CLIENT_SECRET): 400 invalid_request (AADSTS90002)" >expect &&
	test_cmp expect err
'

test_expect_success 'service principal: an application refused (100)' '
	sp aaddeny &&
	test_expect_code 100 tok &&
	echo "$E service principal (AZURE_CLIENT_SECRET): 400 unauthorized_client (AADSTS700016)" >expect &&
	test_cmp expect err
'

test_expect_success 'service principal: 503s are retried' '
	sp aadbusy &&
	tok &&
	grep "^token=$(sha8 tok-aad-1) " out &&
	test "$(grep -c "^fail" aadbusy.log)" = 2
'

test_expect_success 'service principal: the authority down is temporary (111), tries bounded' '
	sp aaddown &&
	test_expect_code 111 tok &&
	echo "$E service principal (AZURE_CLIENT_SECRET): 503 temporarily_unavailable" >expect &&
	test_cmp expect err &&
	test "$(grep -c "^fail" aaddown.log)" = 3
'

test_expect_success 'service principal: the authority unreachable is temporary (111)' '
	sp aad &&
	export AZURE_AUTHORITY_HOST=http://127.0.0.1:9/ &&
	test_expect_code 111 tok &&
	echo "$E service principal (AZURE_CLIENT_SECRET): Couldn'"'"'t connect to server" >expect &&
	test_cmp expect err
'

test_expect_success 'service principal: the secret goes only over https or to loopback (100)' '
	sp aad &&
	for u in http://login.example/ http://10.0.0.1/ http://user@127.0.0.1/ \
	    ftp://127.0.0.1/ http://169.254.169.254/; do
		export AZURE_AUTHORITY_HOST=$u &&
		test_expect_code 100 tok &&
		echo "$E AZURE_AUTHORITY_HOST must be https, or http to a loopback address" >expect &&
		test_cmp expect err || return 1
	done
'

test_expect_success 'service principal: a tenant that would change the URL (100)' '
	sp aad &&
	export AZURE_TENANT_ID="../x" &&
	test_expect_code 100 tok &&
	echo "$E AZURE_TENANT_ID is not a tenant id or domain" >expect &&
	test_cmp expect err
'

test_expect_success 'half a service principal is an error (100), naming what is missing' '
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT &&
	test_expect_code 100 tok &&
	echo "$E AZURE_TENANT_ID and AZURE_CLIENT_ID are set but AZURE_CLIENT_SECRET is not" >expect &&
	test_cmp expect err &&
	unset AZURE_CLIENT_ID &&
	test_expect_code 100 tok &&
	echo "$E AZURE_TENANT_ID is set but AZURE_CLIENT_ID and AZURE_CLIENT_SECRET are not" >expect &&
	test_cmp expect err &&
	unset AZURE_TENANT_ID &&
	export AZURE_CLIENT_SECRET=sp-secret-value &&
	test_expect_code 100 tok &&
	echo "$E AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID and AZURE_CLIENT_ID are not" >expect &&
	test_cmp expect err &&
	unset AZURE_CLIENT_SECRET &&
	export AZURE_TENANT_ID=$TENANT AZURE_FEDERATED_TOKEN_FILE=$TRASH/fed-token &&
	test_expect_code 100 tok &&
	echo "$E AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE are set but AZURE_CLIENT_ID is not" >expect &&
	test_cmp expect err
'

test_expect_success 'AZURE_CLIENT_ID alone is no service principal' '
	export AZURE_CLIENT_ID=$CLIENT &&
	test_expect_code 100 tok &&
	echo "$E $nothing" >expect &&
	test_cmp expect err
'

test_expect_success 'workload identity: the federated token as client assertion' '
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_FEDERATED_TOKEN_FILE=$TRASH/fed-token \
	    AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port aadfed)/ &&
	tok &&
	sed "s/ expires=[^ ]* / /" out >got &&
	echo "token=$(sha8 tok-aad-1) source=workload identity (AZURE_FEDERATED_TOKEN_FILE)" >expect &&
	test_cmp expect got
'

test_expect_success 'workload identity: the file is read again at each fetch' '
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_FEDERATED_TOKEN_FILE=$TRASH/fed-token \
	    AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port aadfed)/ &&
	printf "eyJhbGciOiJSUzI1NiJ9.fed-token-rotated.sig" >fed-token &&
	before=$(issued aadfed) &&
	tok -n 2 -x 2 &&
	test "$(issued aadfed)" = $((before + 2))
'

test_expect_success 'workload identity: an assertion the authority refuses (100)' '
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_FEDERATED_TOKEN_FILE=$TRASH/other-token \
	    AZURE_AUTHORITY_HOST=http://127.0.0.1:$(port aadfed)/ &&
	printf "eyJhbGciOiJSUzI1NiJ9.other-token-body.sig" >other-token &&
	test_expect_code 100 tok &&
	echo "$E workload identity (AZURE_FEDERATED_TOKEN_FILE): 401 invalid_client (AADSTS7000215)" >expect &&
	test_cmp expect err
'

test_expect_success 'workload identity: a missing or empty token file (100)' '
	export AZURE_TENANT_ID=$TENANT AZURE_CLIENT_ID=$CLIENT \
	    AZURE_FEDERATED_TOKEN_FILE=$TRASH/no-such-token &&
	test_expect_code 100 tok &&
	echo "$E unable to read AZURE_FEDERATED_TOKEN_FILE $TRASH/no-such-token: No such file or directory" >expect &&
	test_cmp expect err &&
	printf "\n" >empty-token &&
	export AZURE_FEDERATED_TOKEN_FILE=$TRASH/empty-token &&
	test_expect_code 100 tok &&
	echo "$E AZURE_FEDERATED_TOKEN_FILE $TRASH/empty-token is empty" >expect &&
	test_cmp expect err
'

test_expect_success 'the client secret wins over the federated token' '
	sp aad &&
	export AZURE_FEDERATED_TOKEN_FILE=$TRASH/fed-token &&
	tok &&
	grep " source=service principal (AZURE_CLIENT_SECRET)$" out
'

# Source b: managed identity.

test_expect_success 'setup: App Service and IMDS' '
	server app --mode appservice --header "app-header-value" &&
	server appuser --mode appservice --header "app-header-value" \
	    --client-id user-assigned-id --path /MSI/token/ &&
	server appdown --mode appservice --header "app-header-value" --fail 100 &&
	server imds --mode imds &&
	server imdsnum --mode imds --numeric &&
	server imdsuser --mode imds --client-id user-assigned-id &&
	server imdsnoid --mode imds --no-identity &&
	server imdsbusy --mode imds --fail 2 &&
	server imdsdown --mode imds --fail 100 &&
	server imds4 --mode imds --lifetime 4 &&
	server imds20 --mode imds --lifetime 20 &&
	server imdsfallback --mode imds --lifetime 10 --fail-after 1
'

# app NAME [PATH]: the environment for App Service's endpoint NAME.
app() {
	IDENTITY_ENDPOINT=http://127.0.0.1:$(port "$1")${2:-/msi/token}
	IDENTITY_HEADER=app-header-value
	export IDENTITY_ENDPOINT IDENTITY_HEADER
}

# imds NAME: IMDS is server NAME.
imds() {
	AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:$(port "$1")
	export AZURE_POD_IDENTITY_AUTHORITY_HOST
}

test_expect_success 'App Service: IDENTITY_ENDPOINT with X-IDENTITY-HEADER' '
	app app &&
	tok &&
	echo "token=$(sha8 tok-appservice-1) expires=$(expiry app 1) source=managed identity (App Service)" >expect &&
	test_cmp expect out &&
	grep "^issue 1 appservice 3600 [0-9]* -$" app.log
'

test_expect_success 'App Service: a user-assigned identity (AZURE_CLIENT_ID)' '
	app appuser /MSI/token/ &&
	export AZURE_CLIENT_ID=user-assigned-id &&
	tok &&
	grep "^token=$(sha8 tok-appservice-1) .* source=managed identity (App Service)$" out &&
	grep "^issue 1 appservice 3600 [0-9]* user-assigned-id$" appuser.log
'

test_expect_success 'App Service: a wrong header is refused (100)' '
	app app &&
	export IDENTITY_HEADER=wrong-header-value &&
	test_expect_code 100 tok &&
	echo "$E managed identity (App Service): 401" >expect &&
	test_cmp expect err
'

test_expect_success 'App Service: an identity it does not have (100)' '
	app app &&
	export AZURE_CLIENT_ID=no-such-identity &&
	test_expect_code 100 tok &&
	echo "$E managed identity (App Service): 400 invalid_request" >expect &&
	test_cmp expect err
'

test_expect_success 'App Service: down is temporary (111), tries bounded' '
	app appdown &&
	test_expect_code 111 tok &&
	echo "$E managed identity (App Service): 503" >expect &&
	test_cmp expect err &&
	test "$(grep -c "^fail" appdown.log)" = 3
'

test_expect_success 'App Service: the header goes only to https, loopback or link-local (100)' '
	export IDENTITY_HEADER=app-header-value &&
	for u in http://msi.example/token http://10.1.2.3:8081/msi/token \
	    "http://127.0.0.1:9/msi token"; do
		export IDENTITY_ENDPOINT="$u" &&
		test_expect_code 100 tok &&
		echo "$E IDENTITY_ENDPOINT must be https, or http to a loopback or link-local address" >expect &&
		test_cmp expect err || return 1
	done
'

test_expect_success 'App Service: IDENTITY_HEADER alone does not apply' '
	unset IDENTITY_ENDPOINT &&
	export IDENTITY_HEADER=app-header-value &&
	test_expect_code 100 tok &&
	grep "tried service principal (AZURE_TENANT_ID unset), App Service (IDENTITY_ENDPOINT unset), IMDS" err
'

test_expect_success 'IMDS: Metadata: true, expires_on as strings' '
	imds imds &&
	tok &&
	echo "token=$(sha8 tok-imds-1) expires=$(expiry imds 1) source=managed identity (IMDS)" >expect &&
	test_cmp expect out &&
	test_must_fail grep "^refuse" imds.log
'

test_expect_success 'IMDS: expires_on as a number' '
	imds imdsnum &&
	tok &&
	echo "token=$(sha8 tok-imds-1) expires=$(expiry imdsnum 1) source=managed identity (IMDS)" >expect &&
	test_cmp expect out
'

test_expect_success 'IMDS: a user-assigned identity (AZURE_CLIENT_ID)' '
	imds imdsuser &&
	export AZURE_CLIENT_ID=user-assigned-id &&
	tok &&
	grep "^token=$(sha8 tok-imds-1) " out &&
	grep "^issue 1 imds 3600 [0-9]* user-assigned-id$" imdsuser.log
'

test_expect_success 'IMDS: no identity (400) means no source' '
	imds imdsnoid &&
	test_expect_code 100 tok &&
	echo "$E no Azure AD token source applies; tried service principal (AZURE_TENANT_ID unset), App Service (IDENTITY_HEADER unset), IMDS (400 invalid_request), Azure CLI (az not on PATH)" >expect &&
	test_cmp expect err
'

test_expect_success 'IMDS: 503s are retried' '
	imds imdsbusy &&
	tok &&
	grep "^token=$(sha8 tok-imds-1) " out &&
	test "$(grep -c "^fail" imdsbusy.log)" = 2
'

test_expect_success 'IMDS: answering 503 for good is temporary (111), tries bounded' '
	imds imdsdown &&
	test_expect_code 111 tok &&
	echo "$E managed identity (IMDS): 503 busy" >expect &&
	test_cmp expect err &&
	test "$(grep -c "^fail" imdsdown.log)" = 3
'

test_expect_success 'IMDS: a bad AZURE_POD_IDENTITY_AUTHORITY_HOST (100)' '
	export AZURE_POD_IDENTITY_AUTHORITY_HOST=169.254.169.254 &&
	test_expect_code 100 tok &&
	echo "$E bad AZURE_POD_IDENTITY_AUTHORITY_HOST" >expect &&
	test_cmp expect err
'

# Source c: the Azure CLI, a stand-in for az. AZ_STUB says what it does:
# ok (expires_on and a different expiresOn), old (expiresOn only), login
# (not logged in), slow (sleeps, pids in azpids), detach (closes its
# output, then sleeps), garbage.

test_expect_success 'setup: a stand-in az' '
	mkdir -p azbin &&
	cat >azbin/az <<-\EOF &&
	#!/bin/sh
	echo "args $*" >>"$AZ_STUB_DIR/az.log"
	echo "config ${AZURE_CONFIG_DIR:-none}" >>"$AZ_STUB_DIR/az.log"
	n=$(($(cat "$AZ_STUB_DIR/az.count" 2>/dev/null || echo 0) + 1))
	echo $n >"$AZ_STUB_DIR/az.count"
	now=$(date +%s)
	case ${AZ_STUB:-ok} in
	ok)
		echo "expires $((now + 3600))" >>"$AZ_STUB_DIR/az.log"
		printf "{\"accessToken\": \"tok-cli-%d\", \"expiresOn\": \"%s\", \"expires_on\": %d, \"subscription\": \"0\", \"tenant\": \"t\", \"tokenType\": \"Bearer\"}\n" \
		    $n "$(date -d @$((now + 1800)) "+%Y-%m-%d %H:%M:%S.000000")" $((now + 3600)) ;;
	old)
		echo "expires $((now + 1800))" >>"$AZ_STUB_DIR/az.log"
		printf "{\"accessToken\": \"tok-cli-%d\", \"expiresOn\": \"%s\", \"tokenType\": \"Bearer\"}\n" \
		    $n "$(date -d @$((now + 1800)) "+%Y-%m-%d %H:%M:%S.000000")" ;;
	login)
		echo "WARNING: a warning first" >&2
		echo "ERROR: Please run '"'"'az login'"'"' to setup account." >&2
		exit 1 ;;
	slow)
		sleep 60 &
		echo $$ $! >"$AZ_STUB_DIR/azpids"
		wait ;;
	detach)
		exec >/dev/null 2>&1
		sleep 60 &
		echo $$ $! >"$AZ_STUB_DIR/azpids"
		wait ;;
	garbage)
		echo "not JSON" ;;
	esac
	EOF
	chmod +x azbin/az
'

# cli: use the stand-in az.
cli() {
	AZPATH=$TRASH/noaz:$TRASH/azbin:/usr/bin:/bin
	AZ_STUB_DIR=$TRASH
	export AZPATH AZ_STUB_DIR
}

test_expect_success 'Azure CLI: az account get-access-token, expires_on' '
	cli &&
	rm -f az.log az.count &&
	tok &&
	echo "token=$(sha8 tok-cli-1) expires=$(iso "$(sed -n "s/^expires //p" az.log)") source=Azure CLI" >expect &&
	test_cmp expect out &&
	grep "^args account get-access-token --resource https://storage.azure.com/ -o json$" az.log
'

test_expect_success 'Azure CLI: expiresOn, in local time, from older CLIs' '
	cli &&
	rm -f az.log az.count &&
	export AZ_STUB=old &&
	tok &&
	echo "token=$(sha8 tok-cli-1) expires=$(iso "$(sed -n "s/^expires //p" az.log)") source=Azure CLI" >expect &&
	test_cmp expect out
'

test_expect_success 'Azure CLI: az gets the environment' '
	cli &&
	rm -f az.log &&
	export AZURE_CONFIG_DIR=$TRASH/azconfig &&
	tok &&
	grep "^config $TRASH/azconfig$" az.log
'

test_expect_success 'Azure CLI: not logged in (100), with what az said' '
	cli &&
	export AZ_STUB=login &&
	test_expect_code 100 tok &&
	echo "$E Azure CLI: az exited 1: ERROR: Please run '"'"'az login'"'"' to setup account." >expect &&
	test_cmp expect err
'

test_expect_success 'Azure CLI: killed, with what it started, when it takes too long (111)' '
	cli &&
	rm -f azpids &&
	export AZ_STUB=slow &&
	start=$(date +%s) &&
	test_expect_code 111 tok -c 2 &&
	end=$(date +%s) &&
	echo "$E Azure CLI: az did not finish in 2 s" >expect &&
	test_cmp expect err &&
	test $((end - start)) -lt 10 &&
	set -- $(cat azpids) &&
	wait_for eval "! abs_running $1 && ! abs_running $2"
'

test_expect_success 'Azure CLI: the time limit holds after az closes its output' '
	cli &&
	rm -f azpids &&
	export AZ_STUB=detach &&
	test_expect_code 111 tok -c 2 &&
	echo "$E Azure CLI: az did not finish in 2 s" >expect &&
	test_cmp expect err &&
	set -- $(cat azpids) &&
	wait_for eval "! abs_running $1 && ! abs_running $2"
'

test_expect_success 'Azure CLI: an answer that is not JSON (111)' '
	cli &&
	export AZ_STUB=garbage &&
	test_expect_code 111 tok &&
	echo "$E Azure CLI: answer is not JSON (line 1)" >expect &&
	test_cmp expect err
'

# Precedence.

test_expect_success 'a service principal beats managed identity and the CLI' '
	sp aad && app app && imds imds && cli &&
	rm -f az.log &&
	a=$(issued app) && i=$(issued imds) &&
	tok &&
	grep " source=service principal (AZURE_CLIENT_SECRET)$" out &&
	test "$(issued app)" = "$a" && test "$(issued imds)" = "$i" &&
	test_must_fail test -e az.log
'

test_expect_success 'App Service beats IMDS and the CLI' '
	app app && imds imds && cli &&
	rm -f az.log &&
	i=$(issued imds) &&
	tok &&
	grep " source=managed identity (App Service)$" out &&
	test "$(issued imds)" = "$i" &&
	test_must_fail test -e az.log
'

test_expect_success 'IMDS beats the CLI' '
	imds imds && cli &&
	rm -f az.log &&
	tok &&
	grep " source=managed identity (IMDS)$" out &&
	test_must_fail test -e az.log
'

test_expect_success 'IMDS without an identity, or unreachable, leaves it to the CLI' '
	imds imdsnoid && cli &&
	tok &&
	grep " source=Azure CLI$" out &&
	export AZURE_POD_IDENTITY_AUTHORITY_HOST=http://127.0.0.1:9/ &&
	tok &&
	grep " source=Azure CLI$" out
'

# Expiry and refresh.

test_expect_success 'refresh: min(5 minutes, half the lifetime) before expiry' '
	"$AZ" -R 100:104 >out && echo 102 >expect && test_cmp expect out &&
	"$AZ" -R 0:600 >out && echo 300 >expect && test_cmp expect out &&
	"$AZ" -R 0:3600 >out && echo 3300 >expect && test_cmp expect out &&
	"$AZ" -R 50:40 >out && echo 50 >expect && test_cmp expect out
'

test_expect_success 'refresh: a long-lived token is fetched once' '
	imds imds &&
	before=$(issued imds) &&
	tok -n 3 -w 300 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued imds)" = $((before + 1))
'

test_expect_success 'refresh: a short-lived token is fetched again in time' '
	sp aad4 &&
	before=$(issued aad4) &&
	tok -n 2 -w 3000 &&
	test "$(issued aad4)" = $((before + 2)) &&
	printf "token=%s\ntoken=%s\n" $(sha8 tok-aad-$((before + 1))) \
	    $(sha8 tok-aad-$((before + 2))) >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got
'

test_expect_success 'refresh: a short-lived IMDS token is fetched again' '
	imds imds4 &&
	before=$(issued imds4) &&
	tok -n 2 -w 3000 &&
	test "$(issued imds4)" = $((before + 2)) &&
	echo "token=$(sha8 tok-imds-$((before + 2))) expires=$(expiry imds4 $((before + 2))) source=managed identity (IMDS)" >expect &&
	tail -n 1 out >got &&
	test_cmp expect got
'

test_expect_success 'refresh: not before half the lifetime' '
	imds imds20 &&
	tok -n 3 -w 1000 &&
	test "$(cut -d" " -f1 out | sort -u)" = "token=$(sha8 tok-imds-1)" &&
	test "$(issued imds20)" = 1
'

# Lifetime 10 s: the refresh is due 5 or 6 s on, the token is good for
# more than 9.
test_expect_success 'refresh: a failed refresh keeps a token still valid' '
	imds imdsfallback &&
	tok -n 2 -w 6100
	rc=$? &&
	cat out err imdsfallback.log &&
	test $rc = 0 &&
	test "$(cut -d" " -f1 out | sort -u)" = "token=$(sha8 tok-imds-1)" &&
	test "$(issued imdsfallback)" = 1 &&
	grep "^fail" imdsfallback.log
'

test_expect_success 'aztoken_expire forces a refetch' '
	app app &&
	before=$(issued app) &&
	tok -n 4 -x 3 &&
	test "$(issued app)" = $((before + 2)) &&
	a=token=$(sha8 tok-appservice-$((before + 1))) &&
	b=token=$(sha8 tok-appservice-$((before + 2))) &&
	printf "%s\n" $a $a $b $b >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got
'

test_expect_success 'threads share one fetch' '
	sp aad &&
	before=$(issued aad) &&
	tok -t 8 -n 5 &&
	test $(wc -l <out) = 40 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued aad)" = $((before + 1))
'

test_expect_success 'a token longer than the caller has room for (100)' '
	imds imds &&
	test_expect_code 100 tok -l 8 &&
	echo "$E the access token from managed identity (IMDS) is longer than 7 bytes" >expect &&
	test_cmp expect err
'

test_expect_success 'no secret or token in any output' '
	test -s all.log &&
	test_must_fail grep -e "tok-[a-z0-9]*-[0-9]" -e "sp-secret-value" \
	    -e "wrong-secret-value" -e "app-header-value" \
	    -e "wrong-header-value" -e "fed-token-body" \
	    -e "fed-token-rotated" -e "other-token-body" all.log
'

test_done
