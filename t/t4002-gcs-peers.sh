#!/bin/sh
test_description='gcs peers: the firebase-tools storage emulator, gcs-client, s3-proxy in front (token check, faults)'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-gcs.sh"

gcs_setup && gcs_proxy_start --token tok-1 --faults faults

# listening PORT: the TCP listeners on PORT, as ADDR:PORT in hex.
listening() {
	awk -v p=":$(printf %04X "$1")" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# logged LINE: the proxy has logged exactly LINE.
logged() { grep -qxF "$1" "$GCS_PROXY_LOG"; }

# fails CODE 'STDERR' CMD...: CMD exits with CODE and says exactly STDERR.
fails() {
	_code=$1 _msg=$2; shift 2
	test_expect_code "$_code" "$@" 2>err || { cat err >&2; return 1; }
	printf '%s\n' "$_msg" >err.want &&
	test_cmp err.want err
}

# status WANT CURL-ARG...: curl must get an answer with status WANT; the
# headers are left in head, the body in body.
status() {
	_want=$1; shift
	curl -sS -D head -o body -w '%{http_code}\n' "$@" >code || return 1
	echo "$_want" >want &&
	test_cmp want code
}

# header NAME: the value of the header NAME in head.
header() {
	sed -n "s/^$1: *//Ip" head | tr -d '\r'
}

# field KEY: the value of KEY in the JSON object in body, as JSON.
field() {
	python3 -c 'import json, sys
v = json.load(open("body"))
for k in sys.argv[1].split("."):
    v = v[int(k)] if isinstance(v, list) else v[k]
print(json.dumps(v))' "$1"
}

# proxied OP ARG...: gcs-client through the proxy, with the token tok-1.
proxied() { GCS_TOKEN=${GCS_TOKEN-tok-1} gcs_client "$GCS_ENDPOINT" "$@"; }

# crc32c FILE: the CRC-32C of FILE, big-endian, in base64, as GCS gives it.
crc32c() {
	python3 -c 'import base64, sys
crc = 0xffffffff
for b in open(sys.argv[1], "rb").read():
    crc ^= b
    for _ in range(8):
        crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
crc ^= 0xffffffff
print(base64.b64encode(crc.to_bytes(4, "big")).decode())' "$1"
}

up="/upload/storage/v1/b"
api="/storage/v1/b"

test_expect_success 'gcs-client: a usage error exits 100' '
	test_expect_code 100 gcs-client 2>err &&
	grep -q "^usage: gcs-client ls BUCKET \[PREFIX\]$" err &&
	test_expect_code 100 gcs-client ls 2>err &&
	test_expect_code 100 gcs-client put b o 2>err &&
	test_expect_code 100 gcs-client cat b o 5-2 2>err &&
	test_expect_code 100 gcs-client cat b o x-2 2>err &&
	fails 100 "gcs-client: GCS_ENDPOINT must be http://127.0.0.1:PORT" \
	    env GCS_ENDPOINT=http://localhost:1 gcs-client ls b &&
	fails 100 "gcs-client: GCS_ENDPOINT is not set" \
	    env -u GCS_ENDPOINT gcs-client ls b &&
	fails 100 "gcs-client: GCS_UPLOAD must be media, multipart or resumable" \
	    env GCS_ENDPOINT=http://127.0.0.1:1 GCS_UPLOAD=simple \
	    gcs-client put b o /dev/null
'

test_expect_success GCS 'the emulator runs on 127.0.0.1 only, firebase-tools 15.34.2' '
	echo "0100007F:$(printf %04X $GCS_PORT)" >want &&
	listening $GCS_PORT >got &&
	test_cmp want got &&
	test "$GCS_EMULATOR_ENDPOINT" = "http://127.0.0.1:$GCS_PORT" &&
	test "$GCS_EMULATOR" = "$TEST_DIRECTORY/bin/gcs-emulator.js" &&
	test "$GCS_BUCKET" = ls-test &&
	test "$GCS_PROJECT" = demo-ls-test &&
	gcs_running $GCS_EMULATOR_PID &&
	node "$GCS_EMULATOR" --version >got &&
	echo 15.34.2 >want &&
	test_cmp want got &&
	test -d "$LS_TEST_CACHE/firebase-tools-15.34.2/node_modules/firebase-tools" &&
	test_expect_code 100 node "$GCS_EMULATOR" --dir x --project real-project \
	    2>err &&
	grep -q "^usage: node gcs-emulator.js --version$" err &&
	! test -s "$TRASH/gcs-emulator.log"
'

test_expect_success GCS 'objects are uploaded (media, multipart, resumable), listed, read and deleted' '
	echo hello >hello &&
	: >empty &&
	head -c 1048577 /dev/urandom >big &&
	gcs_put ls-test hello.txt hello &&
	gcs_put ls-test "dir/odd name+a=b~c%d&e.txt" hello &&
	GCS_UPLOAD=multipart gcs_put ls-test dir/empty empty &&
	GCS_UPLOAD=resumable gcs_put ls-test dir/big.bin big &&
	GCS_UPLOAD=multipart gcs_put ls-test dir/multi.bin big &&
	GCS_UPLOAD=resumable gcs_put ls-test dir/res-empty empty &&
	gcs_ls ls-test >got &&
	cat >want <<-\EOF &&
	dir/big.bin
	dir/empty
	dir/multi.bin
	dir/odd name+a=b~c%d&e.txt
	dir/res-empty
	hello.txt
	EOF
	test_cmp want got &&
	gcs_ls ls-test dir/o >got &&
	echo "dir/odd name+a=b~c%d&e.txt" >want &&
	test_cmp want got &&
	gcs_cat ls-test "dir/odd name+a=b~c%d&e.txt" >got &&
	test_cmp hello got &&
	gcs_cat ls-test dir/empty >got &&
	test_cmp empty got &&
	gcs_cat ls-test dir/res-empty >got &&
	test_cmp empty got &&
	gcs_cat ls-test dir/big.bin >got &&
	cmp big got &&
	gcs_cat ls-test dir/multi.bin >got &&
	cmp big got &&
	gcs_rm ls-test dir/empty &&
	gcs_rm ls-test dir/res-empty &&
	gcs_rm ls-test dir/multi.bin &&
	gcs_ls ls-test dir/ >got &&
	printf "%s\n" dir/big.bin "dir/odd name+a=b~c%d&e.txt" >want &&
	test_cmp want got
'

test_expect_success GCS 'a bucket appears at its first request' '
	gcs_ls gc1 >got &&
	! test -s got &&
	gcs_put gc1 elsewhere hello &&
	gcs_ls gc1 >got &&
	echo elsewhere >want &&
	test_cmp want got &&
	! gcs_ls ls-test | grep -q elsewhere
'

test_expect_success GCS 'the resource: size a string, md5Hash and crc32c base64, generation, timeCreated' '
	gcs_put ls-test meta.txt hello &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/meta.txt" &&
	test "$(field size)" = "\"6\"" &&
	test "$(field md5Hash)" = "\"$(openssl dgst -md5 -binary hello | base64)\"" &&
	test "$(field crc32c)" = "\"$(crc32c hello)\"" &&
	gen=$(field generation | tr -d \") &&
	expr "$gen" : "[0-9]\{13\}$" &&
	test "$(field id)" = "\"ls-test/meta.txt/$gen\"" &&
	test "$(field metageneration)" = "\"1\"" &&
	created=$(field timeCreated | tr -d \") &&
	expr "$created" : "[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]\.[0-9]\{3\}Z$" &&
	test "$(field updated)" = "\"$created\"" &&
	now=$(date +%s) &&
	at=$(date -d "$created" +%s) &&
	test $((now - at)) -ge 0 && test $((now - at)) -le 60 &&
	d=$((at - gen / 1000)) &&
	test $d -ge 0 && test $d -le 1 &&
	gcs_client "$GCS_EMULATOR_ENDPOINT" stat ls-test meta.txt >stat &&
	grep -qx "\"generation\": \"$gen\"" stat &&
	grep -qx "\"size\": \"6\"" stat &&
	grep -qx "\"contentType\": \"application/octet-stream\"" stat &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/meta.txt?alt=media" &&
	test "$(header x-goog-generation)" = "$gen" &&
	test "$(header x-goog-hash)" = "crc32c=$(crc32c hello),md5=$(openssl dgst -md5 -binary hello | base64)" &&
	sleep 0.01 &&
	gcs_put ls-test meta.txt big &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/meta.txt" &&
	gen2=$(field generation | tr -d \") &&
	test "$gen2" -gt "$gen" &&
	test "$(field size)" = "\"1048577\"" &&
	test "$(field timeCreated)" != "\"$created\""
'

test_expect_success GCS 'a listing follows nextPageToken (the next name) across pages' '
	for i in 1 2 3 4 5; do
		gcs_put ls-test page/$i hello || return 1
	done &&
	(export GCS_LIST_MAX_RESULTS=2 && gcs_ls ls-test page/) >got &&
	printf "page/%s\n" 1 2 3 4 5 >want &&
	test_cmp want got &&
	(export GCS_LIST_MAX_RESULTS=1 && gcs_ls ls-test "") >got &&
	gcs_ls ls-test >want &&
	test_cmp want got &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o?prefix=page%2F&maxResults=2" &&
	test "$(field nextPageToken)" = "\"page/3\"" &&
	test "$(field items.1.name)" = "\"page/2\"" &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o?prefix=page%2F&maxResults=2&pageToken=page%2F5" &&
	test "$(field items.0.name)" = "\"page/5\"" &&
	! grep -q nextPageToken body &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o?prefix=page%2F&maxResults=2&pageToken=page%2F2x" &&
	test "$(field items.0.name)" = "\"page/1\"" &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o?prefix=nothing%2F" &&
	test "$(cat body)" = "{\"kind\":\"storage#objects\"}" &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o?delimiter=%2F" &&
	test "$(field prefixes)" = "[\"dir/\", \"page/\"]"
'

test_expect_success GCS 'a download with Range is 206; past the end it is the whole object, 200' '
	gcs_client "$GCS_EMULATOR_ENDPOINT" cat ls-test hello.txt 1-3 >got &&
	printf ell >want &&
	test_cmp want got &&
	gcs_client "$GCS_EMULATOR_ENDPOINT" cat ls-test dir/big.bin 1048570- >got &&
	tail -c 7 big >want &&
	test_cmp want got &&
	status 206 -r 0-0 "$GCS_EMULATOR_ENDPOINT/download$api/ls-test/o/hello.txt?alt=media" &&
	test "$(header content-range)" = "bytes 0-0/6" &&
	printf h >want &&
	test_cmp want body &&
	status 200 -r 10-20 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/hello.txt?alt=media" &&
	test_cmp hello body &&
	test -z "$(header content-range)"
'

test_expect_success GCS 'a missing object: download 404 in plain text; metadata and delete 404 notFound' '
	status 404 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/nothing?alt=media" &&
	printf "No such object: ls-test/nothing" >want &&
	test_cmp want body &&
	test "$(header content-type)" = "text/html; charset=utf-8" &&
	fails 1 "gcs-client: 404 -" gcs_cat ls-test nothing &&
	fails 1 "gcs-client: 404 notFound" \
	    gcs_client "$GCS_EMULATOR_ENDPOINT" stat ls-test nothing &&
	fails 1 "gcs-client: 404 notFound" gcs_rm ls-test nothing &&
	status 404 -X DELETE "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/nothing" &&
	test "$(field error.code)" = 404 &&
	test "$(field error.errors.0.reason)" = "\"notFound\""
'

test_expect_success GCS 'resumable: the session URI follows Host; its first PUT ends it (no 308)' '
	head -c 524288 /dev/urandom >half2 &&
	head -c 262144 half2 >c1 &&
	status 200 -X POST -H "Content-Type: application/json" --data "{}" \
	    "$GCS_EMULATOR_ENDPOINT$up/ls-test/o?uploadType=resumable&name=res%2Fx" &&
	loc=$(header location) &&
	expr "$loc" : "http://127.0.0.1:$GCS_PORT$up/ls-test/o?name=res%2Fx&uploadType=resumable&upload_id=[-0-9a-f]*$" &&
	status 200 -X PUT -H "Content-Range: bytes 0-262143/524288" \
	    --data-binary @c1 "$loc" &&
	test "$(field size)" = "\"262144\"" &&
	test -z "$(header range)" &&
	status 400 -X PUT -H "Content-Range: bytes 262144-524287/524288" \
	    --data-binary @c1 "$loc" &&
	gcs_cat ls-test res/x >got &&
	cmp c1 got &&
	status 200 -X POST -H "Host: example.com:1" \
	    "$GCS_EMULATOR_ENDPOINT$up/ls-test/o?uploadType=resumable&name=res%2Fy" &&
	header location | grep -q "^http://example.com:1$up/ls-test/o?" &&
	status 501 -X DELETE "$(header location | sed "s|example.com:1|127.0.0.1:$GCS_PORT|")"
'

test_expect_success GCS 'no credentials are checked; a media upload without a name is 400' '
	status 200 -X POST -H "Authorization: Bearer nonsense" --data-binary @hello \
	    "$GCS_EMULATOR_ENDPOINT$up/ls-test/o?uploadType=media&name=anyone" &&
	status 200 "$GCS_EMULATOR_ENDPOINT$api/ls-test/o/anyone?alt=media" &&
	test_cmp hello body &&
	status 400 -X POST --data-binary @hello \
	    "$GCS_EMULATOR_ENDPOINT$up/ls-test/o?uploadType=media" &&
	gcs_running $GCS_EMULATOR_PID &&
	gcs_rm ls-test anyone
'

test_expect_success GCS 'names equal after path.join are one object: a//b is a/b' '
	gcs_put ls-test "x//y" hello &&
	gcs_put ls-test "x/y" big &&
	gcs_ls ls-test x >got &&
	echo "x/y" >want &&
	test_cmp want got &&
	gcs_cat ls-test "x//y" >got &&
	cmp big got &&
	gcs_rm ls-test x/y
'

test_expect_success GCS 'a body over 130 MiB is refused with 413; nothing is stored' '
	truncate -s $((130 * 1048576 + 1)) huge &&
	status 413 -X POST -T huge -H "Content-Type: application/octet-stream" \
	    "$GCS_EMULATOR_ENDPOINT$up/ls-test/o?uploadType=media&name=huge" &&
	grep -q PayloadTooLargeError body &&
	rm -f huge &&
	gcs_ls ls-test huge >got &&
	! test -s got
'

test_expect_success GCSPROXY 's3-proxy runs on 127.0.0.1 only and passes requests with the token' '
	echo "0100007F:$(printf %04X $GCS_PROXY_PORT)" >want &&
	listening $GCS_PROXY_PORT >got &&
	test_cmp want got &&
	test "$GCS_ENDPOINT" = "http://127.0.0.1:$GCS_PROXY_PORT" &&
	test "$GCS_EMULATOR_HOST" = "127.0.0.1:$GCS_PROXY_PORT" &&
	proxied put ls-test via/proxy.bin big &&
	GCS_UPLOAD=resumable proxied put ls-test via/res.bin big &&
	proxied cat ls-test via/proxy.bin >got &&
	cmp big got &&
	proxied cat ls-test via/res.bin 5-9 >got &&
	head -c 10 big | tail -c 5 >want &&
	cmp want got &&
	proxied ls ls-test via/ >got &&
	printf "%s\n" via/proxy.bin via/res.bin >want &&
	test_cmp want got &&
	proxied rm ls-test via/proxy.bin &&
	proxied rm ls-test via/res.bin &&
	logged "POST $up/ls-test/o uploadType=media&name=via%2Fproxy.bin 200" &&
	logged "POST $up/ls-test/o uploadType=resumable&name=via%2Fres.bin 200" &&
	grep -qx "PUT $up/ls-test/o name=via%2Fres.bin&uploadType=resumable&upload_id=[-0-9a-f]* 200" \
	    "$GCS_PROXY_LOG" &&
	logged "GET $api/ls-test/o/via%2Fproxy.bin alt=media 200" &&
	logged "GET $api/ls-test/o/via%2Fres.bin alt=media 206 range=bytes=5-9" &&
	logged "GET $api/ls-test/o prefix=via%2F 200" &&
	logged "DELETE $api/ls-test/o/via%2Fproxy.bin - 204" &&
	! grep -q tok-1 "$GCS_PROXY_LOG" "$TRASH/gcs-proxy.err"
'

test_expect_success GCSPROXY 'a missing or wrong token gets 401 with a JSON error; nothing is forwarded' '
	fails 1 "gcs-client: 401 required" env GCS_TOKEN= \
	    GCS_ENDPOINT="$GCS_ENDPOINT" gcs-client ls ls-test &&
	fails 1 "gcs-client: 401 authError" env GCS_TOKEN=tok-2 \
	    GCS_ENDPOINT="$GCS_ENDPOINT" gcs-client put ls-test forged hello &&
	status 401 -X POST --data-binary @hello \
	    "$GCS_ENDPOINT$up/ls-test/o?uploadType=media&name=forged" &&
	test "$(header content-type)" = "application/json; charset=UTF-8" &&
	test "$(field error.code)" = 401 &&
	test "$(field error.errors.0.reason)" = "\"required\"" &&
	test "$(field error.errors.0.location)" = "\"Authorization\"" &&
	status 401 -H "Authorization: Bearer tok-1x" "$GCS_ENDPOINT$api/ls-test/o" &&
	test "$(field error.errors.0.reason)" = "\"authError\"" &&
	status 401 -H "Authorization: bearer tok-1" "$GCS_ENDPOINT$api/ls-test/o" &&
	gcs_ls ls-test >got &&
	! grep -q forged got &&
	logged "GET $api/ls-test/o - 401 auth=required" &&
	logged "POST $up/ls-test/o uploadType=media&name=forged 401 auth=authError" &&
	logged "POST $up/ls-test/o uploadType=media&name=forged 401 auth=required" &&
	logged "GET $api/ls-test/o - 401 auth=authError" &&
	! grep -q tok- "$GCS_PROXY_LOG" "$TRASH/gcs-proxy.err"
'

test_expect_success GCSPROXY 'tokens rotate: the proxy reads the accepted ones again' '
	gcs_tokens tok-2 &&
	fails 1 "gcs-client: 401 authError" proxied ls ls-test &&
	GCS_TOKEN=tok-2 proxied cat ls-test hello.txt >got &&
	test_cmp hello got &&
	gcs_tokens tok-2 tok-3 &&
	GCS_TOKEN=tok-3 proxied cat ls-test hello.txt >got &&
	GCS_TOKEN=tok-2 proxied cat ls-test hello.txt >got &&
	gcs_tokens &&
	fails 1 "gcs-client: 401 required" proxied cat ls-test hello.txt &&
	test_must_fail gcs_tokens "a b" 2>err &&
	test_must_fail gcs_tokens "" 2>err &&
	echo "Authorization Bearer tok-9" >"$GCS_PROXY_TOKENS" &&
	fails 1 "gcs-client: 401 required" proxied cat ls-test hello.txt &&
	logged "require $GCS_PROXY_TOKENS:1: bad line" &&
	! grep -q tok-9 "$GCS_PROXY_LOG" "$TRASH/gcs-proxy.err" &&
	gcs_tokens tok-1 &&
	proxied cat ls-test hello.txt >got &&
	test_cmp hello got
'

test_expect_success GCSPROXY 'fault 503 twice: 503 with a JSON error, 503, then the object' '
	gcs_faults "GET $api/ls-test/o/hello.txt 503 2" &&
	status 503 -H "Authorization: Bearer tok-1" \
	    "$GCS_ENDPOINT$api/ls-test/o/hello.txt?alt=media" &&
	test "$(field error.code)" = 503 &&
	test "$(field error.errors.0.reason)" = "\"SlowDown\"" &&
	fails 1 "gcs-client: 503 SlowDown" proxied cat ls-test hello.txt &&
	proxied cat ls-test hello.txt >got &&
	test_cmp hello got &&
	test $(grep -c "^GET $api/ls-test/o/hello.txt alt=media 503 fault=503$" "$GCS_PROXY_LOG") = 2 &&
	gcs_faults
'

test_expect_success GCSPROXY 'a fault comes before the token check' '
	gcs_faults "GET $api/ls-test/o/hello.txt 500" &&
	fails 1 "gcs-client: 500 InternalError" env GCS_TOKEN=tok-2 \
	    GCS_ENDPOINT="$GCS_ENDPOINT" gcs-client cat ls-test hello.txt &&
	fails 1 "gcs-client: 401 authError" env GCS_TOKEN=tok-2 \
	    GCS_ENDPOINT="$GCS_ENDPOINT" gcs-client cat ls-test hello.txt &&
	gcs_faults
'

test_expect_success GCSPROXY 'fault reset and truncate on downloads: the client fails, then gets the object' '
	gcs_faults "GET $api/ls-test/o/hello.txt reset" \
	    "GET $api/ls-test/o/dir/big.bin truncate" &&
	fails 111 "gcs-client: unable to GET $api/ls-test/o/hello.txt: Connection reset by peer" \
	    proxied cat ls-test hello.txt &&
	test_expect_code 111 proxied cat ls-test dir/big.bin >got 2>err &&
	grep -q "^gcs-client: unable to GET $api/ls-test/o/dir%2Fbig.bin: " err &&
	proxied cat ls-test hello.txt >got &&
	test_cmp hello got &&
	proxied cat ls-test dir/big.bin >got &&
	cmp big got &&
	logged "GET $api/ls-test/o/hello.txt alt=media - fault=reset" &&
	logged "GET $api/ls-test/o/dir%2Fbig.bin alt=media 200 fault=truncate" &&
	gcs_faults
'

test_expect_success GCSPROXY 'faults on uploads select on the query: nothing is stored' '
	gcs_faults "POST?uploadType $up/ls-test/o reset-mid-upload" \
	    "PUT?upload_id $up/ls-test/o 503" &&
	test_expect_code 111 proxied put ls-test up/big.bin big 2>err &&
	grep -q "^gcs-client: unable to POST $up/ls-test/o: " err &&
	fails 1 "gcs-client: 503 SlowDown" \
	    env GCS_UPLOAD=resumable GCS_TOKEN=tok-1 \
	    GCS_ENDPOINT="$GCS_ENDPOINT" gcs-client put ls-test up/big.bin big &&
	gcs_ls ls-test up/ >got &&
	! test -s got &&
	GCS_UPLOAD=resumable proxied put ls-test up/big.bin big &&
	gcs_cat ls-test up/big.bin >got &&
	cmp big got &&
	logged "POST $up/ls-test/o uploadType=media&name=up%2Fbig.bin - fault=reset-mid-upload" &&
	grep -q "^PUT $up/ls-test/o name=up%2Fbig.bin&uploadType=resumable&upload_id=[-0-9a-f]* 503 fault=503$" \
	    "$GCS_PROXY_LOG" &&
	gcs_faults
'

test_expect_success GCSPROXY 'fault stall: a patient client gets its answer late' '
	gcs_faults "GET $api/ls-test/o/hello.txt stall 1" &&
	t0=$(date +%s%N) &&
	proxied cat ls-test hello.txt >got &&
	t1=$(date +%s%N) &&
	test $((t1 - t0)) -ge 1000000000 &&
	test_cmp hello got &&
	logged "GET $api/ls-test/o/hello.txt alt=media 200 fault=stall" &&
	gcs_faults
'

test_expect_success GCS 'the proxy and the emulator stop' '
	gcs_proxy_stop &&
	test "$GCS_ENDPOINT" = "$GCS_EMULATOR_ENDPOINT" &&
	test "$GCS_EMULATOR_HOST" = "127.0.0.1:$GCS_PORT" &&
	gcs_stop &&
	! gcs_running $GCS_PROXY_PID &&
	! gcs_running $GCS_EMULATOR_PID &&
	test_expect_code 7 curl -sS -o /dev/null "http://127.0.0.1:$GCS_PROXY_PORT/" &&
	test_expect_code 7 curl -sS -o /dev/null "$GCS_EMULATOR_ENDPOINT/"
'

test_expect_success 'every server this script started has stopped' '
	for pid in ${GCS_EMULATOR_PID:-} ${GCS_PROXY_PID:-}; do
		! gcs_running $pid || { echo "$pid still runs" >&2; return 1; }
	done &&
	for f in /proc/[0-9]*/cmdline; do
		! tr "\0" " " <$f 2>/dev/null |
		    grep -q -e "--dir $TRASH/gcs-emulator" -e "$TRASH/gcs-proxy" ||
		    { echo "$f: still runs" >&2; return 1; }
	done
'

test_done
