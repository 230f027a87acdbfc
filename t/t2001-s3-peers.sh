#!/bin/sh
test_description='s3 peers: s3rver (patched listing) and s3-proxy (verify, faults)'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-s3.sh"

s3_setup ls-test other && s3_proxy_start --verify --faults faults

# expect_rc 'CODE...' CMD...: CMD must exit with one of the CODEs.
expect_rc() {
	_want=$1; shift
	"$@"
	_got=$?
	case " $_want " in
	*" $_got "*) return 0 ;;
	esac
	echo "expect_rc: $* exited $_got, wanted one of: $_want" >&2
	return 1
}

# status WANT CURL-ARG...: s3_curl must get an answer with status WANT; the
# body is left in body.
status() {
	_want=$1; shift
	s3_curl -o body -w '%{http_code}\n' "$@" >code || return 1
	echo "$_want" >want &&
	test_cmp want code
}

# listening PORT: the TCP listeners on PORT, as ADDR:PORT in hex.
listening() {
	awk -v p=":$(printf %04X "$1")" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# enc STRING: STRING percent-encoded for a query.
enc() {
	python3 -c 'import sys, urllib.parse as u
print(u.quote(sys.argv[1], safe="-_.~"))' "$1"
}

# logged LINE: the proxy has logged exactly LINE.
logged() { grep -qxF "$1" "$S3_PROXY_LOG"; }

test_expect_success S3 's3rver runs on 127.0.0.1 only, with its buckets' '
	echo "0100007F:$(printf %04X $S3RVER_PORT)" >want &&
	listening $S3RVER_PORT >got &&
	test_cmp want got &&
	s3_curl -f -o buckets.xml "$S3RVER_ENDPOINT/" &&
	grep -q "<Name>ls-test</Name>" buckets.xml &&
	grep -q "<Name>other</Name>" buckets.xml
'

test_expect_success S3PROXY 's3-proxy runs on 127.0.0.1 only' '
	echo "0100007F:$(printf %04X $S3_PROXY_PORT)" >want &&
	listening $S3_PROXY_PORT >got &&
	test_cmp want got &&
	test "$S3_ENDPOINT" = "http://127.0.0.1:$S3_PROXY_PORT"
'

test_expect_success S3PROXY 'put, get, head and list signed by curl pass the verifying proxy' '
	printf "hello\n" >hello &&
	s3_curl -f -T hello "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	s3_curl -f -o got "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	test_cmp hello got &&
	s3_curl -f -I "$S3_ENDPOINT/ls-test/dir/hello.txt" >head &&
	grep -qi "^content-length: 6" head &&
	s3_curl -f -o list.xml "$S3_ENDPOINT/ls-test?list-type=2&prefix=dir%2F" &&
	grep -q "<Key>dir/hello.txt</Key>" list.xml &&
	s3_curl -f -o got "$S3_ENDPOINT/other?list-type=2" &&
	grep -q "<KeyCount>0</KeyCount>" got &&
	logged "PUT /ls-test/dir/hello.txt - 200" &&
	logged "GET /ls-test/dir/hello.txt - 200" &&
	logged "HEAD /ls-test/dir/hello.txt - 200" &&
	logged "GET /ls-test list-type=2&prefix=dir%2F 200"
'

test_expect_success S3PROXY 'a range GET passes and is logged with its range' '
	status 206 -r 1-3 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	printf ell >want &&
	test_cmp want body &&
	logged "GET /ls-test/dir/hello.txt - 206 range=bytes=1-3"
'

test_expect_success S3PROXY 'a payload hash in hex is checked against the body' '
	sum=$(sha256sum hello | cut -d" " -f1) &&
	curl -sS -f --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
	    -H "x-amz-content-sha256: $sum" -T hello \
	    "$S3_ENDPOINT/ls-test/dir/hashed.txt" &&
	printf "other\n" >other &&
	curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:S3RVER \
	    -H "x-amz-content-sha256: $sum" -T other \
	    -o body -w "%{http_code}\n" \
	    "$S3_ENDPOINT/ls-test/dir/mismatch.txt" >code &&
	echo 400 >want &&
	test_cmp want code &&
	grep -q "<Code>XAmzContentSHA256Mismatch</Code>" body &&
	s3_ls ls-test dir/ >keys &&
	grep -qx dir/hashed.txt keys &&
	! grep -q mismatch keys
'

test_expect_success S3 's3rver alone takes a wrong secret' '
	curl -sS -f --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:wrong \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T hello \
	    "$S3RVER_ENDPOINT/ls-test/direct/forged.txt" &&
	s3_ls ls-test direct/ >keys &&
	echo direct/forged.txt >want &&
	test_cmp want keys &&
	s3_rm ls-test direct/forged.txt
'

test_expect_success S3PROXY 'a wrong secret gets 403 SignatureDoesNotMatch, unforwarded' '
	curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user S3RVER:wrong \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -T hello \
	    -o body -w "%{http_code}\n" \
	    "$S3_ENDPOINT/ls-test/dir/forged.txt" >code &&
	echo 403 >want &&
	test_cmp want code &&
	grep -q "<Error><Code>SignatureDoesNotMatch</Code><Message>" body &&
	grep -q "<CanonicalRequest>PUT" body &&
	s3_ls ls-test dir/ >keys &&
	! grep -q forged keys &&
	logged "PUT /ls-test/dir/forged.txt - 403 verify=SignatureDoesNotMatch"
'

test_expect_success S3PROXY 'an unknown key id gets 403 InvalidAccessKeyId' '
	curl -sS --aws-sigv4 aws:amz:us-east-1:s3 --user NOTME:S3RVER \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -o body -w "%{http_code}\n" \
	    "$S3_ENDPOINT/ls-test/dir/hello.txt" >code &&
	echo 403 >want &&
	test_cmp want code &&
	grep -q "<Code>InvalidAccessKeyId</Code>" body
'

test_expect_success S3PROXY 'an unsigned request gets 403 AccessDenied' '
	curl -sS -o body -w "%{http_code}\n" \
	    "$S3_ENDPOINT/ls-test/dir/hello.txt" >code &&
	echo 403 >want &&
	test_cmp want code &&
	grep -q "<Code>AccessDenied</Code>" body
'

test_expect_success S3PROXY 'a signature for another region is refused' '
	curl -sS --aws-sigv4 aws:amz:eu-west-1:s3 --user S3RVER:S3RVER \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" \
	    -o body -w "%{http_code}\n" \
	    "$S3_ENDPOINT/ls-test/dir/hello.txt" >code &&
	echo 400 >want &&
	test_cmp want code &&
	grep -q "<Code>AuthorizationHeaderMalformed</Code>" body
'

# vector METHOD PATH SIGNED-HEADERS SIGNATURE CURL-ARG...: sends one of
# the SigV4 examples of the Amazon S3 API reference (key AKIAIOSFODNN7EXAMPLE,
# 24 May 2013, bucket examplebucket) to the proxy on port $(cat vec.port).
vector() {
	_m=$1 _p=$2 _h=$3 _s=$4; shift 4
	curl -sS -o /dev/null -X "$_m" \
	    -H "Host: examplebucket.s3.amazonaws.com" \
	    -H "x-amz-date: 20130524T000000Z" \
	    -H "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=$_h,Signature=$_s" \
	    "$@" "http://127.0.0.1:$(cat vec.port)$_p"
}

test_expect_success S3PROXY 'the verifier passes the S3 SigV4 examples and fails altered ones' '
	s3-proxy --upstream "$S3RVER_ENDPOINT" --port-file vec.port --log vec.log \
	    --access-key AKIAIOSFODNN7EXAMPLE --region us-east-1 \
	    --verify wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY 2>vec.err &
	pid=$! &&
	test_atexit "s3_kill $pid s3-proxy" &&
	s3_wait_up $pid test -s vec.port &&
	e=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 &&
	w=44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072 &&
	vector GET /test.txt "host;range;x-amz-content-sha256;x-amz-date" \
	    f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41 \
	    -H "Range: bytes=0-9" -H "x-amz-content-sha256: $e" &&
	vector PUT "/test\$file.text" \
	    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class" \
	    98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd \
	    -H "Date: Fri, 24 May 2013 00:00:00 GMT" \
	    -H "x-amz-storage-class: REDUCED_REDUNDANCY" \
	    -H "x-amz-content-sha256: $w" --data-binary "Welcome to Amazon S3." &&
	vector GET "/?lifecycle" "host;x-amz-content-sha256;x-amz-date" \
	    fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543 \
	    -H "x-amz-content-sha256: $e" &&
	vector GET "/?max-keys=2&prefix=J" "host;x-amz-content-sha256;x-amz-date" \
	    34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7 \
	    -H "x-amz-content-sha256: $e" &&
	test $(wc -l <vec.log) = 4 &&
	! grep verify= vec.log &&
	vector GET /test.txt "host;range;x-amz-content-sha256;x-amz-date" \
	    f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41 \
	    -H "Range: bytes=0-8" -H "x-amz-content-sha256: $e" &&
	vector GET "/?max-keys=3&prefix=J" "host;x-amz-content-sha256;x-amz-date" \
	    34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7 \
	    -H "x-amz-content-sha256: $e" &&
	vector PUT "/test\$file.text" \
	    "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class" \
	    98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd \
	    -H "Date: Fri, 24 May 2013 00:00:00 GMT" \
	    -H "x-amz-storage-class: REDUCED_REDUNDANCY" \
	    -H "x-amz-content-sha256: $w" --data-binary "Welcome to Amazon S3!" &&
	cat >want <<-\EOF &&
	GET /test.txt - 403 range=bytes=0-8 verify=SignatureDoesNotMatch
	GET / max-keys=3&prefix=J 403 verify=SignatureDoesNotMatch
	PUT /test$file.text - 400 class=REDUCED_REDUNDANCY verify=XAmzContentSHA256Mismatch
	EOF
	tail -n 3 vec.log >got &&
	test_cmp want got &&
	s3_kill $pid s3-proxy
'

test_expect_success S3PROXY 'a chunked upload passes the proxy' '
	head -c 300000 /dev/urandom >chunked &&
	s3_curl -f -H "Transfer-Encoding: chunked" -T chunked \
	    "$S3_ENDPOINT/ls-test/dir/chunked.bin" &&
	s3_cat ls-test dir/chunked.bin >got &&
	cmp chunked got
'

test_expect_success S3PROXY 'botocore signs odd keys and continued listings the proxy accepts' '
	for k in "odd key/a+b=c~d%e&f.txt" "odd key/b" "odd key/c" "odd key/d" "odd key/e"; do
		s3_client "$S3_ENDPOINT" put ls-test "$k" hello || return 1
	done &&
	s3_client "$S3_ENDPOINT" cat ls-test "odd key/a+b=c~d%e&f.txt" >got &&
	test_cmp hello got &&
	S3_LIST_MAX_KEYS=2 s3_client "$S3_ENDPOINT" ls ls-test "odd key/" >got &&
	cat >want <<-\EOF &&
	odd key/a+b=c~d%e&f.txt
	odd key/b
	odd key/c
	odd key/d
	odd key/e
	EOF
	test_cmp want got &&
	grep -q "continuation-token=" "$S3_PROXY_LOG" &&
	! grep "odd%20key" "$S3_PROXY_LOG" | grep -v " 200$"
'

test_expect_success S3PROXY 'a multipart upload and a multi-object delete pass the proxy' '
	head -c 5242880 /dev/urandom >part1 &&
	head -c 1000 /dev/urandom >part2 &&
	cat part1 part2 >whole &&
	s3_curl -f -X POST -o init.xml "$S3_ENDPOINT/ls-test/mp.bin?uploads=" &&
	id=$(sed -n "s/.*<UploadId>\([^<]*\)<.*/\1/p" init.xml) &&
	test -n "$id" &&
	eid=$(enc "$id") &&
	s3_curl -f -T part1 -D h1 "$S3_ENDPOINT/ls-test/mp.bin?partNumber=1&uploadId=$eid" &&
	s3_curl -f -T part2 -D h2 "$S3_ENDPOINT/ls-test/mp.bin?partNumber=2&uploadId=$eid" &&
	e1=$(sed -n "s/^[Ee][Tt][Aa][Gg]: *//p" h1 | tr -d "\r") &&
	e2=$(sed -n "s/^[Ee][Tt][Aa][Gg]: *//p" h2 | tr -d "\r") &&
	printf "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>" \
	    "$e1" "$e2" >complete.xml &&
	s3_curl -f -X POST --data-binary @complete.xml -o done.xml \
	    "$S3_ENDPOINT/ls-test/mp.bin?uploadId=$eid" &&
	grep -q "<Key>mp.bin</Key>" done.xml &&
	s3_cat ls-test mp.bin >got &&
	cmp whole got &&
	logged "POST /ls-test/mp.bin uploads= 200" &&
	logged "PUT /ls-test/mp.bin partNumber=1&uploadId=$eid 200" &&
	logged "POST /ls-test/mp.bin uploadId=$eid 200" &&
	printf "<Delete><Object><Key>mp.bin</Key></Object><Object><Key>dir/hashed.txt</Key></Object></Delete>" >delete.xml &&
	s3_curl -f -X POST --data-binary @delete.xml -o deleted.xml \
	    "$S3_ENDPOINT/ls-test?delete=" &&
	grep -q "<Deleted><Key>mp.bin</Key>" deleted.xml &&
	s3_curl -f -X DELETE "$S3_ENDPOINT/ls-test/odd%20key/e" &&
	s3_ls ls-test >keys &&
	! grep -qx -e mp.bin -e dir/hashed.txt -e "odd key/e" keys &&
	logged "POST /ls-test delete= 200" &&
	logged "DELETE /ls-test/odd%20key/e - 204"
'

test_expect_success S3 'a listing with delimiter gives common prefixes of deep keys' '
	g=PATH/generations &&
	s3_put ls-test $g/0123456789abcdef/snapshots/00000000.snapshot.lz4 hello &&
	s3_put ls-test $g/fedcba9876543210/wal/00000000/00000000.wal.lz4 hello &&
	s3_put ls-test $g/fedcba9876543210/wal/00000000/00000001.wal.lz4 hello &&
	s3_put ls-test $g/flat hello &&
	s3_prefixes ls-test $g/ >got &&
	cat >want <<-EOF &&
	$g/0123456789abcdef/
	$g/fedcba9876543210/
	EOF
	test_cmp want got &&
	s3_prefixes ls-test $g/fedcba9876543210/ >got &&
	echo $g/fedcba9876543210/wal/ >want &&
	test_cmp want got &&
	s3_client "$S3RVER_ENDPOINT" ls ls-test $g/ >got &&
	cat >want <<-EOF &&
	$g/0123456789abcdef/snapshots/00000000.snapshot.lz4
	$g/fedcba9876543210/wal/00000000/00000000.wal.lz4
	$g/fedcba9876543210/wal/00000000/00000001.wal.lz4
	$g/flat
	EOF
	sort want >want.sorted &&
	sort got >got.sorted &&
	test_cmp want.sorted got.sorted
'

test_expect_success S3PROXY 'the V1 and V2 delimiter listings agree through the proxy' '
	s3_curl -f -o v2.xml "$S3_ENDPOINT/ls-test?delimiter=%2F&list-type=2&prefix=PATH%2Fgenerations%2F" &&
	s3_curl -f -o v1.xml "$S3_ENDPOINT/ls-test?delimiter=%2F&prefix=PATH%2Fgenerations%2F" &&
	for f in v1.xml v2.xml; do
		grep -o "<CommonPrefixes><Prefix>[^<]*</Prefix></CommonPrefixes>" $f >$f.p &&
		grep -o "<Key>[^<]*</Key>" $f >$f.k || return 1
	done &&
	cat >want <<-\EOF &&
	<CommonPrefixes><Prefix>PATH/generations/0123456789abcdef/</Prefix></CommonPrefixes>
	<CommonPrefixes><Prefix>PATH/generations/fedcba9876543210/</Prefix></CommonPrefixes>
	EOF
	test_cmp want v1.xml.p &&
	test_cmp want v2.xml.p &&
	echo "<Key>PATH/generations/flat</Key>" >want &&
	test_cmp want v1.xml.k &&
	test_cmp want v2.xml.k
'

test_expect_success S3PROXY 'fault reset: the connection drops, then requests pass' '
	s3_faults "GET dir/hello.txt reset 1" &&
	expect_rc "52 56" s3_curl -o got "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	s3_curl -f -o got "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	test_cmp hello got &&
	logged "GET /ls-test/dir/hello.txt - - fault=reset" &&
	s3_faults
'

test_expect_success S3PROXY 'fault 503 twice: SlowDown, SlowDown, then the object' '
	s3_faults "GET *.txt 503 2" &&
	status 503 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	grep -q "<Error><Code>SlowDown</Code>" body &&
	status 503 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	status 200 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	test_cmp hello body &&
	test $(grep -c "^GET /ls-test/dir/hello.txt - 503 fault=503$" "$S3_PROXY_LOG") = 2 &&
	s3_faults
'

test_expect_success S3PROXY 'fault 500 on a PUT: InternalError, nothing stored' '
	s3_faults "PUT dir/* 500" &&
	status 500 -T hello "$S3_ENDPOINT/ls-test/dir/five.txt" &&
	grep -q "<Error><Code>InternalError</Code>" body &&
	s3_ls ls-test dir/ >keys &&
	! grep -q five keys &&
	status 200 -T hello "$S3_ENDPOINT/ls-test/dir/five.txt" &&
	s3_ls ls-test dir/ >keys &&
	grep -qx dir/five.txt keys &&
	s3_faults
'

test_expect_success S3PROXY 'rules select on method, query parameter and path' '
	s3_faults "PUT?partNumber * 503 1" "DELETE /other/* 500 1" &&
	status 200 -T hello "$S3_ENDPOINT/ls-test/dir/plain.txt" &&
	s3_curl -f -X POST -o init.xml "$S3_ENDPOINT/ls-test/mp2.bin?uploads=" &&
	eid=$(enc "$(sed -n "s/.*<UploadId>\([^<]*\)<.*/\1/p" init.xml)") &&
	status 503 -T hello "$S3_ENDPOINT/ls-test/mp2.bin?partNumber=1&uploadId=$eid" &&
	status 200 -T hello "$S3_ENDPOINT/ls-test/mp2.bin?partNumber=1&uploadId=$eid" &&
	status 204 -X DELETE "$S3_ENDPOINT/ls-test/dir/plain.txt" &&
	status 500 -X DELETE "$S3_ENDPOINT/other/x" &&
	logged "PUT /ls-test/mp2.bin partNumber=1&uploadId=$eid 503 fault=503" &&
	logged "DELETE /other/x - 500 fault=500" &&
	s3_faults
'

test_expect_success S3PROXY 'a rewritten rules file starts its counts afresh' '
	s3_faults "GET dir/hello.txt 503" &&
	status 503 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	status 200 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	s3_faults "GET dir/hello.txt 503" &&
	status 503 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	status 200 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	s3_faults
'

test_expect_success S3PROXY 'a bad rule is reported and ignored' '
	s3_faults "GET * explode" "GET * stall 61" &&
	status 200 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	logged "rules $S3_FAULTS:1: bad rule: GET * explode" &&
	logged "rules $S3_FAULTS:2: bad rule: GET * stall 61" &&
	s3_faults
'

test_expect_success S3PROXY 'fault stall: a client that gives up leaves nothing stored' '
	s3_faults "PUT dir/stalled.txt stall 3" &&
	expect_rc 28 s3_curl --max-time 1 -T hello "$S3_ENDPOINT/ls-test/dir/stalled.txt" &&
	wait_for logged "PUT /ls-test/dir/stalled.txt - - fault=stall" &&
	s3_ls ls-test dir/ >keys &&
	! grep -q stalled keys &&
	s3_faults
'

test_expect_success S3PROXY 'fault stall: a patient client gets its answer late' '
	s3_faults "GET dir/hello.txt stall 1" &&
	t0=$(date +%s%N) &&
	status 200 --max-time 20 "$S3_ENDPOINT/ls-test/dir/hello.txt" &&
	t1=$(date +%s%N) &&
	test $((t1 - t0)) -ge 1000000000 &&
	test_cmp hello body &&
	logged "GET /ls-test/dir/hello.txt - 200 fault=stall" &&
	s3_faults
'

test_expect_success S3PROXY 'fault truncate: half the body, then the connection closes' '
	head -c 100000 /dev/urandom >big &&
	s3_put ls-test dir/big.bin big &&
	s3_faults "GET dir/big.bin truncate" &&
	expect_rc 18 s3_curl -o got "$S3_ENDPOINT/ls-test/dir/big.bin" &&
	test $(wc -c <got) = 50000 &&
	head -c 50000 big | cmp - got &&
	s3_curl -f -o got "$S3_ENDPOINT/ls-test/dir/big.bin" &&
	cmp big got &&
	logged "GET /ls-test/dir/big.bin - 200 fault=truncate" &&
	s3_faults
'

test_expect_success S3PROXY 'fault reset-mid-upload: the upload drops, nothing stored' '
	head -c 1048576 /dev/urandom >up &&
	s3_faults "PUT dir/up.bin reset-mid-upload" &&
	expect_rc "52 55 56" s3_curl -T up "$S3_ENDPOINT/ls-test/dir/up.bin" &&
	s3_ls ls-test dir/ >keys &&
	! grep -q up.bin keys &&
	s3_curl -f -T up "$S3_ENDPOINT/ls-test/dir/up.bin" &&
	s3_cat ls-test dir/up.bin >got &&
	cmp up got &&
	logged "PUT /ls-test/dir/up.bin - - fault=reset-mid-upload" &&
	s3_faults
'

test_expect_success S3PROXY 'a kept-alive connection carries several requests' '
	s3_curl -f -o a -o b \
	    "$S3_ENDPOINT/ls-test/dir/hello.txt" "$S3_ENDPOINT/ls-test/dir/big.bin" \
	    -w "%{num_connects}\n" >conns &&
	test_cmp hello a &&
	cmp big b &&
	printf "1\n0\n" >want &&
	test_cmp want conns
'

test_expect_success S3 'the proxy and s3rver stop' '
	s3_proxy_stop &&
	s3_stop &&
	! s3_running $S3_PROXY_PID &&
	! s3_running $S3RVER_PID &&
	expect_rc 7 curl -sS -o /dev/null "http://127.0.0.1:$S3_PROXY_PORT/" &&
	expect_rc 7 curl -sS -o /dev/null "$S3RVER_ENDPOINT/"
'

test_done
