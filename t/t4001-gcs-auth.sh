#!/bin/sh
test_description='Google auth: the service account JWT (known answer, checked by openssl) and the Application Default Credentials chain'
. "$(dirname "$0")/lib.sh"

# Only 127.0.0.1 is ever contacted: lib.sh points GCE_METADATA_HOST at a
# dead local port and unsets GOOGLE_APPLICATION_CREDENTIALS and
# CLOUDSDK_CONFIG; HOME is the trash directory's; every token_uri below
# is a local gcp-token-server.

if ! command -v openssl >/dev/null 2>&1; then
	echo "1..0 # SKIP openssl not found"
	exit 0
fi

E='gcpauth: fatal: unable to get a Google access token:'
GA=$TOP/t/unit/gcpauth
SA=ls-test@ls-project.iam.gserviceaccount.com
KID=0123456789abcdef0123456789abcdef01234567
CLIENT=764086051850-ls-test.apps.googleusercontent.com
ADC=$HOME/.config/gcloud/application_default_credentials.json
NOMETA="GCE metadata server 127.0.0.1:9 (unreachable: Couldn't connect to server)"

# tok ARGS...: runs the token chain (gcpauth -T) with stdout in out and
# stderr in err; all of its output is also kept in all.log, which must
# never hold a secret or a token.
tok() {
	"$GA" -T "$@" >out 2>err
	_rc=$?
	cat out err >>"$TRASH/all.log"
	return $_rc
}

# sha8 TOKEN: what the driver prints for TOKEN.
sha8() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# iso EPOCH: the driver's form of a time.
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# server NAME ARGS...: starts gcp-token-server with ARGS, port in
# NAME.port, log in NAME.log; stopped when the script ends.
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

# uri NAME: the token endpoint of server NAME.
uri() { echo "http://127.0.0.1:$(port "$1")/token"; }

# issued NAME: how many tokens server NAME handed out.
issued() { grep -c '^issue ' "$TRASH/$1.log" || :; }

# expiry NAME N: the expiry of server NAME's Nth token, as the driver
# prints it.
expiry() { iso "$(grep "^issue $2 " "$TRASH/$1.log" | cut -d' ' -f5)"; }

# sa_json PEM TOKEN_URI [EMAIL [KID]]: a service account key file, as the
# console hands it out, on stdout. KID "-": no private_key_id.
sa_json() {
	python3 -c '
import json, sys
a = sys.argv[1:]
email = a[2] if len(a) > 2 else "'"$SA"'"
kid = a[3] if len(a) > 3 else "'"$KID"'"
k = {"type": "service_account", "project_id": "ls-project"}
if kid != "-":
    k["private_key_id"] = kid
k["private_key"] = open(a[0]).read()
k["client_email"] = email
k["client_id"] = "104837264829473628194"
k["auth_uri"] = "https://accounts.google.com/o/oauth2/auth"
k["token_uri"] = a[1]
k["universe_domain"] = "googleapis.com"
print(json.dumps(k, indent=2))
' "$@"
}

# user_json TOKEN_URI [SECRET [REFRESH]]: an authorized user file, as
# gcloud auth application-default login leaves it, with token_uri added.
user_json() {
	python3 -c '
import json, sys
a = sys.argv[1:]
print(json.dumps({"account": "", "client_id": "'"$CLIENT"'",
    "client_secret": a[1] if len(a) > 1 else "user-secret-value",
    "quota_project_id": "ls-project",
    "refresh_token": a[2] if len(a) > 2 else "1//refresh-token-value",
    "token_uri": a[0], "type": "authorized_user",
    "universe_domain": "googleapis.com"}, indent=2))
' "$@"
}

# b64d: unpadded base64url on stdin, decoded on stdout; fails on padding
# or on a character outside the alphabet.
b64d() {
	python3 -c '
import base64, re, sys
s = sys.stdin.read().strip()
if not re.fullmatch("[A-Za-z0-9_-]*", s):
    sys.exit("not unpadded base64url")
sys.stdout.buffer.write(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))
'
}

# b64e: stdin, base64url-encoded without padding, on stdout.
b64e() {
	python3 -c '
import base64, sys
sys.stdout.write(base64.urlsafe_b64encode(sys.stdin.buffer.read())
    .decode().rstrip("="))
'
}

nothing="no credentials found; tried GOOGLE_APPLICATION_CREDENTIALS (unset), gcloud ADC file $ADC (absent), $NOMETA"

test_expect_success 'nothing configured: 100 at once, naming each source' '
	test_expect_code 100 timeout 5 "$GA" -T >out 2>err &&
	echo "$E $nothing" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out
'

test_expect_success 'known answers: base64url, refresh times, keys refused' '
	"$GA" >tap &&
	cat tap &&
	! grep "^not ok" tap &&
	grep "^1\.\.[0-9]" tap
'

test_expect_success 'setup: keys' '
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out sa.pem 2>/dev/null &&
	grep -qx -e "-----BEGIN PRIVATE KEY-----" sa.pem &&
	openssl pkey -in sa.pem -pubout -out sa.pub &&
	openssl rsa -in sa.pem -traditional -out sa-rsa.pem 2>/dev/null &&
	grep -qx -e "-----BEGIN RSA PRIVATE KEY-----" sa-rsa.pem &&
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
	    -out other.pem 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out ec.pem 2>/dev/null &&
	python3 -c "
import base64, sys
lines = open(\"sa.pem\").read().split()
der = bytearray(base64.b64decode(\"\".join(lines[3:-3])))
# Offset 620 lies inside the first prime of any 2048-bit PKCS#8 key:
# the key still decodes, but signs wrongly.
der[620] ^= 0x55
b = base64.b64encode(bytes(der)).decode()
print(\"-----BEGIN PRIVATE KEY-----\")
for i in range(0, len(b), 64):
    print(b[i:i + 64])
print(\"-----END PRIVATE KEY-----\")
" >tampered.pem &&
	test_must_fail cmp -s sa.pem tampered.pem &&
	openssl pkey -in tampered.pem -noout 2>/dev/null &&
	sed "5s/^..../!!!!/" sa.pem >broken.pem
'

# The JWT: a known answer. RSASSA-PKCS1-v1_5 is deterministic, so the
# whole JWT is known once the key and the time are.

IAT=1700000000

# jwt_parts FILE: splits the JWT in FILE into h, c and s (three parts).
jwt_parts() {
	test "$(tr -cd . <"$1" | wc -c)" = 2 &&
	h=$(cut -d. -f1 "$1") && c=$(cut -d. -f2 "$1") && s=$(cut -d. -f3 "$1")
}

test_expect_success 'JWT: header, claims and signature exactly as expected' '
	sa_json sa.pem http://127.0.0.1:1/token >kat.json &&
	"$GA" -J kat.json -i $IAT >jwt &&
	jwt_parts jwt &&
	printf "%s" "$h" | b64d >header &&
	printf "%s" "$c" | b64d >claims &&
	printf "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}" $KID \
	    >header.expect &&
	printf "{\"iss\":\"%s\",\"scope\":\"%s\",\"aud\":\"%s\",\"iat\":%d,\"exp\":%d}" \
	    $SA https://www.googleapis.com/auth/devstorage.read_write \
	    http://127.0.0.1:1/token $IAT $((IAT + 3600)) >claims.expect &&
	test_cmp header.expect header &&
	test_cmp claims.expect claims &&
	printf "%s.%s" "$(b64e <header.expect)" "$(b64e <claims.expect)" \
	    >signed &&
	openssl dgst -sha256 -sign sa.pem -out sig.expect signed &&
	printf "%s.%s\n" "$(cat signed)" "$(b64e <sig.expect)" >jwt.expect &&
	test_cmp jwt.expect jwt
'

test_expect_success 'JWT: the signature verifies with the public key' '
	jwt_parts jwt &&
	printf "%s.%s" "$h" "$c" >signed &&
	printf "%s" "$s" | b64d >sig &&
	test $(wc -c <sig) = 256 &&
	openssl dgst -sha256 -verify sa.pub -signature sig signed >verify &&
	echo "Verified OK" >expect &&
	test_cmp expect verify &&
	printf "%s" "$h" | b64d >/dev/null &&
	printf "%s" "$s" | b64d | cmp - sig.expect
'

test_expect_success 'JWT: the same from the key as RSA PRIVATE KEY (PKCS#1)' '
	sa_json sa-rsa.pem http://127.0.0.1:1/token >kat-rsa.json &&
	"$GA" -J kat-rsa.json -i $IAT >jwt-rsa &&
	test_cmp jwt jwt-rsa
'

test_expect_success 'JWT: no kid without a private_key_id' '
	sa_json sa.pem http://127.0.0.1:1/token $SA - >nokid.json &&
	"$GA" -J nokid.json -i $IAT >jwt-nokid &&
	jwt_parts jwt-nokid &&
	printf "%s" "$h" | b64d >header &&
	printf "{\"alg\":\"RS256\",\"typ\":\"JWT\"}" >expect &&
	test_cmp expect header &&
	printf "%s.%s" "$h" "$c" >signed &&
	printf "%s" "$s" | b64d >sig &&
	openssl dgst -sha256 -verify sa.pub -signature sig signed
'

test_expect_success 'JWT: another time, another audience' '
	"$GA" -J kat.json -i 1234567890 -a https://oauth2.googleapis.com/token \
	    >jwt2 &&
	jwt_parts jwt2 &&
	printf "%s" "$c" | b64d >claims &&
	printf "{\"iss\":\"%s\",\"scope\":\"%s\",\"aud\":\"%s\",\"iat\":%d,\"exp\":%d}" \
	    $SA https://www.googleapis.com/auth/devstorage.read_write \
	    https://oauth2.googleapis.com/token 1234567890 1234571490 \
	    >expect &&
	test_cmp expect claims &&
	printf "%s.%s" "$h" "$c" >signed &&
	printf "%s" "$s" | b64d >sig &&
	openssl dgst -sha256 -verify sa.pub -signature sig signed
'

test_expect_success 'JWT: an EC key or a broken PEM is refused (100)' '
	sa_json ec.pem http://127.0.0.1:1/token >ec.json &&
	test_expect_code 100 "$GA" -J ec.json -i $IAT >out 2>err &&
	echo "gcpauth: fatal: unable to sign: Bad message" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out &&
	sa_json broken.pem http://127.0.0.1:1/token >broken.json &&
	test_expect_code 100 "$GA" -J broken.json -i $IAT 2>err &&
	test_cmp expect err
'

# Source 1: GOOGLE_APPLICATION_CREDENTIALS.

test_expect_success 'setup: token endpoints' '
	server sa --public-key sa.pub --client-email $SA --key-id $KID &&
	server sa4 --public-key sa.pub --client-email $SA --key-id $KID \
	    --lifetime 4 &&
	server sabusy --public-key sa.pub --client-email $SA --key-id $KID \
	    --fail 2 &&
	server sadown --public-key sa.pub --client-email $SA --key-id $KID \
	    --fail 100 &&
	server safallback --public-key sa.pub --client-email $SA \
	    --key-id $KID --lifetime 10 --fail-after 1 &&
	user_json http://127.0.0.1:1/token >user-want.json &&
	server user --user user-want.json &&
	sa_json sa.pem "$(uri sa)" >sa.json &&
	sa_json sa.pem "$(uri sa4)" >sa4.json &&
	sa_json sa.pem "$(uri sabusy)" >sabusy.json &&
	sa_json sa.pem "$(uri sadown)" >sadown.json &&
	sa_json sa.pem "$(uri safallback)" >safallback.json &&
	user_json "$(uri user)" >user.json
'

test_expect_success 'service account: the JWT bearer grant' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa.json" &&
	tok &&
	sed "s/ expires=[^ ]* / /" out >got &&
	echo "token=$(sha8 ya29.test-1) source=GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa.json (service account $SA)" >expect &&
	test_cmp expect got &&
	test "$(issued sa)" = 1 &&
	grep "^issue 1 jwt 3600 [0-9]* $SA$" sa.log &&
	want=$(grep "^issue 1 " sa.log | cut -d" " -f5) &&
	got=$(date -u -d "$(sed "s/.* expires=\([^ ]*\) .*/\1/" out)" +%s) &&
	test $((got - want)) -ge -2 && test $((got - want)) -le 2 &&
	test_must_fail test -s err
'

test_expect_success 'service account: the key as RSA PRIVATE KEY' '
	sa_json sa-rsa.pem "$(uri sa)" >sa-rsa.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-rsa.json" &&
	tok &&
	grep "^token=$(sha8 ya29.test-2) .* (service account $SA)$" out
'

test_expect_success 'service account: another key is refused (100)' '
	sa_json other.pem "$(uri sa)" >sa-other.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-other.json" &&
	n=$(issued sa) &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-other.json (service account $SA): 400 invalid_grant: Invalid JWT Signature." >expect &&
	test_cmp expect err &&
	test_must_fail test -s out &&
	test "$(issued sa)" = $n &&
	tail -n 1 sa.log >got &&
	echo "refuse 400 invalid_grant Invalid JWT Signature." >expect &&
	test_cmp expect got
'

test_expect_success 'service account: a tampered key is refused (100)' '
	sa_json tampered.pem "$(uri sa)" >sa-tampered.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-tampered.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-tampered.json (service account $SA): 400 invalid_grant: Invalid JWT Signature." >expect &&
	test_cmp expect err &&
	tail -n 1 sa.log >got &&
	echo "refuse 400 invalid_grant Invalid JWT Signature." >expect &&
	test_cmp expect got
'

test_expect_success 'service account: another key id is refused (100)' '
	sa_json sa.pem "$(uri sa)" $SA 1111111111111111111111111111111111111111 \
	    >sa-kid.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-kid.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-kid.json (service account $SA): 400 invalid_grant: Invalid JWT Signature." >expect &&
	test_cmp expect err
'

test_expect_success 'service account: another account is refused (100)' '
	sa_json sa.pem "$(uri sa)" intruder@ls-project.iam.gserviceaccount.com \
	    >sa-iss.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-iss.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-iss.json (service account intruder@ls-project.iam.gserviceaccount.com): 400 invalid_grant: Invalid grant: account not found" >expect &&
	test_cmp expect err
'

test_expect_success 'service account: a key that is no RSA key is refused here (100)' '
	sa_json broken.pem "$(uri sa)" >sa-broken.json &&
	sa_json ec.pem "$(uri sa)" >sa-ec.json &&
	n=$(wc -l <sa.log) &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-broken.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-broken.json: private_key is not an RSA private key in PEM" >expect &&
	test_cmp expect err &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-ec.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-ec.json: private_key is not an RSA private key in PEM" >expect &&
	test_cmp expect err &&
	test $(wc -l <sa.log) = $n
'

test_expect_success 'service account: 503s are retried' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sabusy.json" &&
	tok &&
	grep "^token=$(sha8 ya29.test-1) " out &&
	test $(grep -c "^fail 503" sabusy.log) = 2
'

test_expect_success 'service account: the endpoint down is temporary (111), tries bounded' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sadown.json" &&
	test_expect_code 111 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sadown.json (service account $SA): 503 internal_failure" >expect &&
	test_cmp expect err &&
	test $(grep -c "^fail 503" sadown.log) = 3
'

test_expect_success 'service account: the endpoint unreachable is temporary (111)' '
	sa_json sa.pem http://127.0.0.1:9/token >sa-dead.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-dead.json" &&
	test_expect_code 111 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-dead.json (service account $SA): Couldn'"'"'t connect to server" >expect &&
	test_cmp expect err
'

test_expect_success 'the key goes only over https or to loopback (100)' '
	sa_json sa.pem http://example.com/token >sa-http.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa-http.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa-http.json: token_uri must be https, or http to a loopback address" >expect &&
	test_cmp expect err
'

test_expect_success 'authorized user: the refresh token grant' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/user.json" &&
	tok &&
	echo "token=$(sha8 ya29.test-1) expires=$(expiry user 1) source=GOOGLE_APPLICATION_CREDENTIALS file $TRASH/user.json (authorized user)" >expect &&
	test_cmp expect out &&
	grep "^issue 1 refresh 3600 [0-9]* $CLIENT$" user.log
'

test_expect_success 'authorized user: a wrong client secret is refused (100)' '
	user_json "$(uri user)" wrong-secret-value >user-bad.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/user-bad.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/user-bad.json (authorized user): 401 invalid_client: Unauthorized" >expect &&
	test_cmp expect err
'

test_expect_success 'authorized user: a revoked refresh token is refused (100)' '
	user_json "$(uri user)" user-secret-value 1//revoked-refresh-token \
	    >user-revoked.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/user-revoked.json" &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/user-revoked.json (authorized user): 400 invalid_grant: Token has been expired or revoked." >expect &&
	test_cmp expect err
'

# bad_file NAME MESSAGE: GOOGLE_APPLICATION_CREDENTIALS=NAME fails with
# 100 and "file NAME: MESSAGE", and no line of the file shows.
bad_file() {
	GOOGLE_APPLICATION_CREDENTIALS="$TRASH/$1" &&
	export GOOGLE_APPLICATION_CREDENTIALS &&
	test_expect_code 100 tok &&
	echo "$E GOOGLE_APPLICATION_CREDENTIALS file $TRASH/$1: $2" >expect &&
	test_cmp expect err &&
	test_must_fail grep -i "secret-marker" err
}

test_expect_success 'a named file that is missing is an error (100)' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/nosuch.json" &&
	test_expect_code 100 tok &&
	echo "$E unable to read GOOGLE_APPLICATION_CREDENTIALS file $TRASH/nosuch.json: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'a named file that cannot be read is an error (100)' '
	mkdir -p adir.json &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/adir.json" &&
	test_expect_code 100 tok &&
	echo "$E unable to read GOOGLE_APPLICATION_CREDENTIALS file $TRASH/adir.json: Is a directory" >expect &&
	test_cmp expect err
'

test_expect_success 'a named file that is malformed is an error (100), its content unshown' '
	printf "{\"private_key\": \"secret-marker\",\n  oops secret-marker\n" \
	    >notjson.json &&
	bad_file notjson.json "not JSON (line 2)" &&
	echo "[\"secret-marker\"]" >array.json &&
	bad_file array.json "not a JSON object" &&
	echo "{\"private_key\": \"secret-marker\"}" >notype.json &&
	bad_file notype.json "no \"type\"" &&
	echo "{\"type\": \"external_account\", \"x\": \"secret-marker\"}" \
	    >external.json &&
	bad_file external.json "credentials of type \"external_account\" are not supported" &&
	echo "{\"type\": \"secret-marker\"}" >oddtype.json &&
	bad_file oddtype.json "credentials of type \"?\" are not supported" &&
	echo "{\"type\": \"service_account\", \"client_email\": \"$SA\"}" \
	    >nokey.json &&
	bad_file nokey.json "service account key lacks private_key" &&
	echo "{\"type\": \"authorized_user\", \"client_id\": \"a\", \"client_secret\": \"secret-marker\"}" \
	    >norefresh.json &&
	bad_file norefresh.json "authorized user lacks refresh_token" &&
	echo "{\"type\": \"service_account\", \"type\": \"authorized_user\"}" \
	    >twice.json &&
	bad_file twice.json "not JSON (line 1)"
'

test_expect_success 'GOOGLE_APPLICATION_CREDENTIALS empty is unset' '
	export GOOGLE_APPLICATION_CREDENTIALS= &&
	test_expect_code 100 tok &&
	echo "$E $nothing" >expect &&
	test_cmp expect err
'

# Source 2: the gcloud ADC file.

# home_adc FILE CMD...: runs CMD with FILE as gcloud's ADC file in the
# home directory, removed afterwards.
home_adc() {
	mkdir -p "$HOME/.config/gcloud" && cp "$1" "$ADC" || return 1
	shift
	"$@"
	_rc=$?
	rm -f "$ADC"
	return $_rc
}

# sdk_adc DIR FILE: FILE as the ADC file of CLOUDSDK_CONFIG=$TRASH/DIR.
sdk_adc() {
	mkdir -p "$TRASH/$1" &&
	cp "$2" "$TRASH/$1/application_default_credentials.json" &&
	CLOUDSDK_CONFIG=$TRASH/$1 &&
	export CLOUDSDK_CONFIG
}

test_expect_success 'gcloud ADC file in ~/.config/gcloud' '
	home_adc user.json tok &&
	grep "^token=$(sha8 ya29.test-2) expires=.* source=gcloud ADC file $ADC (authorized user)$" out &&
	home_adc sa.json tok &&
	grep " source=gcloud ADC file $ADC (service account $SA)$" out
'

test_expect_success 'gcloud ADC file in CLOUDSDK_CONFIG, which wins over the home one' '
	sdk_adc sdk sa.json &&
	home_adc user.json tok &&
	grep " source=gcloud ADC file $TRASH/sdk/application_default_credentials.json (service account $SA)$" out
'

test_expect_success 'gcloud ADC file: CLOUDSDK_CONFIG without one does not apply' '
	mkdir -p sdk2 &&
	export CLOUDSDK_CONFIG="$TRASH/sdk2" &&
	test_expect_code 100 home_adc user.json tok &&
	echo "$E no credentials found; tried GOOGLE_APPLICATION_CREDENTIALS (unset), gcloud ADC file $TRASH/sdk2/application_default_credentials.json (absent), $NOMETA" >expect &&
	test_cmp expect err
'

test_expect_success 'gcloud ADC file: malformed is an error (100)' '
	echo "{\"type\": \"authorized_user\"" >truncated.json &&
	test_expect_code 100 home_adc truncated.json tok &&
	echo "$E gcloud ADC file $ADC: not JSON (line 2)" >expect &&
	test_cmp expect err
'

# Source 3: the metadata server.

test_expect_success 'setup: metadata servers' '
	server meta --metadata &&
	server meta4 --metadata --lifetime 4 &&
	server meta20 --metadata --lifetime 20 &&
	server metanoflavor --metadata --no-flavor &&
	server metanoaccount --metadata --no-account &&
	server metabusy --metadata --fail 2 &&
	server metadown --metadata --fail 100
'

# meta NAME: GCE_METADATA_HOST for server NAME.
meta() {
	GCE_METADATA_HOST=127.0.0.1:$(port "$1")
	export GCE_METADATA_HOST
}

test_expect_success 'metadata server: Metadata-Flavor: Google' '
	meta meta &&
	tok &&
	echo "token=$(sha8 ya29.test-1) expires=$(expiry meta 1) source=GCE metadata server 127.0.0.1:$(port meta)" >expect &&
	test_cmp expect out &&
	grep "^issue 1 metadata 3600 [0-9]* default$" meta.log &&
	test_must_fail grep "^refuse" meta.log
'

test_expect_success 'metadata server: an answer without Metadata-Flavor does not apply' '
	meta metanoflavor &&
	test_expect_code 100 tok &&
	echo "$E no credentials found; tried GOOGLE_APPLICATION_CREDENTIALS (unset), gcloud ADC file $ADC (absent), GCE metadata server 127.0.0.1:$(port metanoflavor) (200 without Metadata-Flavor: Google)" >expect &&
	test_cmp expect err
'

test_expect_success 'metadata server: no service account (404) does not apply' '
	meta metanoaccount &&
	test_expect_code 100 tok &&
	echo "$E no credentials found; tried GOOGLE_APPLICATION_CREDENTIALS (unset), gcloud ADC file $ADC (absent), GCE metadata server 127.0.0.1:$(port metanoaccount) (no service account: 404)" >expect &&
	test_cmp expect err
'

test_expect_success 'metadata server: 503s are retried' '
	meta metabusy &&
	tok &&
	grep "^token=$(sha8 ya29.test-1) " out &&
	test $(grep -c "^fail 503" metabusy.log) = 2
'

test_expect_success 'metadata server: answering 503 for good is temporary (111), tries bounded' '
	meta metadown &&
	test_expect_code 111 tok &&
	echo "$E GCE metadata server 127.0.0.1:$(port metadown): 503" >expect &&
	test_cmp expect err &&
	test $(grep -c "^fail 503" metadown.log) = 3
'

test_expect_success 'metadata server: a bad GCE_METADATA_HOST (100)' '
	echo "$E GCE_METADATA_HOST is not host[:port]" >expect &&
	for h in http://127.0.0.1:1/ "a b" 127.0.0.1:x "[::1" 1.2.3.4:123456 \
	    "host/path"; do
		GCE_METADATA_HOST=$h tok
		test $? = 100 && test_cmp expect err || exit 1
	done
'

# Precedence.

test_expect_success 'GOOGLE_APPLICATION_CREDENTIALS beats the ADC file and metadata' '
	sdk_adc sdk-user user.json &&
	meta meta &&
	u=$(issued user) && m=$(issued meta) &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa.json" &&
	tok &&
	grep " source=GOOGLE_APPLICATION_CREDENTIALS file $TRASH/sa.json (service account $SA)$" out &&
	test "$(issued user)" = "$u" && test "$(issued meta)" = "$m"
'

test_expect_success 'a broken GOOGLE_APPLICATION_CREDENTIALS does not fall through' '
	sdk_adc sdk-user user.json &&
	meta meta &&
	u=$(issued user) && m=$(issued meta) &&
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/nosuch.json" &&
	test_expect_code 100 tok &&
	test "$(issued user)" = "$u" && test "$(issued meta)" = "$m"
'

test_expect_success 'the ADC file beats metadata' '
	sdk_adc sdk-user user.json &&
	meta meta &&
	m=$(issued meta) &&
	tok &&
	grep " source=gcloud ADC file $TRASH/sdk-user/application_default_credentials.json (authorized user)$" out &&
	test "$(issued meta)" = "$m"
'

test_expect_success 'a broken ADC file does not fall through to metadata' '
	sdk_adc sdk-bad truncated.json &&
	meta meta &&
	m=$(issued meta) &&
	test_expect_code 100 tok &&
	test "$(issued meta)" = "$m"
'

# Expiry and refresh.

test_expect_success 'refresh: min(5 minutes, half the lifetime) before expiry' '
	"$GA" -R 100:104 >out && echo 102 >expect && test_cmp expect out &&
	"$GA" -R 0:600 >out && echo 300 >expect && test_cmp expect out &&
	"$GA" -R 0:3600 >out && echo 3300 >expect && test_cmp expect out &&
	"$GA" -R 50:40 >out && echo 50 >expect && test_cmp expect out
'

test_expect_success 'refresh: a long-lived token is fetched once' '
	meta meta &&
	before=$(issued meta) &&
	tok -n 3 -w 300 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued meta)" = $((before + 1))
'

test_expect_success 'refresh: a short-lived service account token is fetched again in time' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa4.json" &&
	before=$(issued sa4) &&
	tok -n 2 -w 3000 &&
	test "$(issued sa4)" = $((before + 2)) &&
	printf "token=%s\ntoken=%s\n" $(sha8 ya29.test-$((before + 1))) \
	    $(sha8 ya29.test-$((before + 2))) >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got &&
	test $(grep -c "^issue .* jwt 4 " sa4.log) = $((before + 2))
'

test_expect_success 'refresh: a short-lived metadata token is fetched again' '
	meta meta4 &&
	before=$(issued meta4) &&
	tok -n 2 -w 3000 &&
	test "$(issued meta4)" = $((before + 2)) &&
	echo "token=$(sha8 ya29.test-$((before + 2))) expires=$(expiry meta4 $((before + 2))) source=GCE metadata server 127.0.0.1:$(port meta4)" >expect &&
	tail -n 1 out >got &&
	test_cmp expect got
'

test_expect_success 'refresh: not before half the lifetime' '
	meta meta20 &&
	tok -n 3 -w 1000 &&
	test "$(cut -d" " -f1 out | sort -u)" = "token=$(sha8 ya29.test-1)" &&
	test "$(issued meta20)" = 1
'

# Lifetime 10 s: the refresh is due 5 or 6 s on, the token is good for
# more than 9.
test_expect_success 'refresh: a failed refresh keeps a token still valid' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/safallback.json" &&
	tok -n 2 -w 6100
	rc=$? &&
	cat out err safallback.log &&
	test $rc = 0 &&
	test "$(cut -d" " -f1 out | sort -u)" = "token=$(sha8 ya29.test-1)" &&
	test "$(issued safallback)" = 1 &&
	grep "^fail" safallback.log
'

test_expect_success 'gcptoken_expire forces a refetch' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/user.json" &&
	before=$(issued user) &&
	tok -n 4 -x 3 &&
	test "$(issued user)" = $((before + 2)) &&
	a=token=$(sha8 ya29.test-$((before + 1))) &&
	b=token=$(sha8 ya29.test-$((before + 2))) &&
	printf "%s\n" $a $a $b $b >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got
'

test_expect_success 'threads share one fetch' '
	export GOOGLE_APPLICATION_CREDENTIALS="$TRASH/sa.json" &&
	before=$(issued sa) &&
	tok -t 8 -n 5 &&
	test $(wc -l <out) = 40 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued sa)" = $((before + 1))
'

test_expect_success 'a token longer than the caller has room for (100)' '
	meta meta &&
	test_expect_code 100 tok -l 8 &&
	echo "$E the access token from GCE metadata server 127.0.0.1:$(port meta) is longer than 7 bytes" >expect &&
	test_cmp expect err
'

test_expect_success 'no key, secret, assertion or token in any output' '
	test -s all.log &&
	sed -n 5p sa.pem >keyline &&
	test -s keyline &&
	test_must_fail grep -F -f keyline all.log &&
	test_must_fail grep -e "ya29\.test-" -e "PRIVATE KEY" \
	    -e "user-secret-value" -e "wrong-secret-value" \
	    -e "refresh-token-value" -e "revoked-refresh-token" \
	    -e "secret-marker" -e "eyJ" all.log
'

test_done
