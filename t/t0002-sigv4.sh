#!/bin/sh
test_description='sigv4: the Authorization headers botocore makes'
. "$(dirname "$0")/lib.sh"

# The independent verifier: botocore's SigV4 signers, at a fixed time.
if python3 -c "import botocore.auth, botocore.awsrequest" \
    2>"$TRASH/.peer-err"; then
	test_set_prereq BOTOCORE
else
	peer_missing botocore \
	    "python3 cannot import botocore: $(tail -n 1 "$TRASH/.peer-err")"
fi

test_expect_success BOTOCORE 'as botocore, for 200 S3 and 25 other requests' '
	sigv4-botocore "$TOP/t/unit/sigv4" -n 200 >out &&
	cat out &&
	echo "225 requests, 0 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual
'

test_expect_success BOTOCORE 'as botocore, with another seed' '
	sigv4-botocore "$TOP/t/unit/sigv4" -n 200 -seed 20130524 >out &&
	cat out &&
	echo "225 requests, 0 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual
'

test_expect_success BOTOCORE 'a header botocore signs differently fails' '
	test_expect_code 1 sigv4-botocore "$TOP/t/unit/sigv4" -n 200 \
	    -tamper >out &&
	grep "^mismatch in request" out >m &&
	test "$(wc -l <m)" -eq 1 &&
	grep "^    |x-tamper:1\$" out &&
	grep "^    |x-tamper:2\$" out &&
	echo "225 requests, 1 mismatched" >expect &&
	tail -n 1 out >actual &&
	test_cmp expect actual
'

test_done
