#!/bin/sh
test_description='age: common/age.c, and files exchanged with the age command'
. "$(dirname "$0")/lib.sh"

agetool() { "$TOP/t/unit/agetool" "$@"; }

test_expect_success 'unit: age' '
	"$TOP/t/unit/age" >out &&
	! grep "^not ok" out &&
	grep -q "^1\.\." out
'

# The independent implementation: age 1.1.1 (Debian package age).
if command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1
then
	test_set_prereq AGE
else
	peer_missing age "age and age-keygen are not installed (package age)"
fi

sizes="0 1 65536 65537 1048576"

test_expect_success AGE 'setup: three age-keygen identities, plaintexts' '
	for i in 1 2 3; do
		age-keygen -o id$i 2>/dev/null &&
		age-keygen -y id$i >r$i || return 1
	done &&
	cat r1 r2 >rcpts &&
	for n in $sizes; do
		head -c $n /dev/urandom >p$n || return 1
	done &&
	test "$(wc -c <p65537)" -eq 65537
'

test_expect_success AGE 'the recipient of an identity is age-keygen -y' '
	for i in 1 2 3; do
		agetool pub id$i >pub$i &&
		test_cmp r$i pub$i || return 1
	done
'

for n in $sizes; do
	test_expect_success AGE "ours to age: $n bytes, 2 recipients" "
		agetool enc rcpts <p$n >o$n.age &&
		test \$(grep -c '^-> X25519 ' o$n.age) -eq 2 &&
		age -d -i id2 o$n.age >out &&
		cmp p$n out &&
		age -d -i id1 o$n.age >out &&
		cmp p$n out
	"
	test_expect_success AGE "age to ours: $n bytes, 2 recipients" "
		age -R rcpts -o a$n.age p$n &&
		agetool dec id1 <a$n.age >out &&
		cmp p$n out &&
		agetool dec id2 <a$n.age >out &&
		cmp p$n out
	"
done

test_expect_success AGE 'an identity file holding a wrong and a right key' '
	cat id3 id2 >ids &&
	agetool dec ids <a65537.age >out &&
	cmp p65537 out
'

test_expect_success AGE 'age to ours, wrong identity: refused, exact message' '
	test_expect_code 1 agetool dec id3 <a65537.age >out 2>err &&
	echo "agetool: fatal: unable to decrypt: no identity matches the" \
	    "file'\''s recipients" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id3 o65537.age >/dev/null 2>&1
'

test_expect_success AGE 'age to ours, cut after chunk 0: refused by both' '
	head -c $(($(wc -c <a65537.age) - 17)) a65537.age >cut.age &&
	test_expect_code 1 agetool dec id1 <cut.age >out 2>err &&
	echo "agetool: fatal: unable to decrypt: age file is truncated" \
	    "after chunk 0" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id1 cut.age >/dev/null 2>&1
'

test_expect_success AGE 'ours, a payload byte changed: refused by both' '
	cp o1048576.age bad.age &&
	printf "\\377" | dd of=bad.age bs=1 seek=300000 conv=notrunc \
	    2>/dev/null &&
	! cmp -s o1048576.age bad.age &&
	test_expect_code 1 agetool dec id1 <bad.age >out 2>err &&
	echo "agetool: fatal: unable to decrypt: chunk 4 fails" \
	    "authentication" >expect &&
	test_cmp expect err &&
	test_must_fail age -d -i id1 bad.age >/dev/null 2>&1
'

test_expect_success AGE 'recipients given as an identity file: refused' '
	test_expect_code 1 agetool dec rcpts <a1.age 2>err &&
	echo "agetool: fatal: unable to use rcpts: identity 1: not an" \
	    "X25519 identity" >expect &&
	test_cmp expect err
'

# The example identity of the age specification.
spec_id=AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZ
spec_id=${spec_id}GFPYYSJZGFPQ4EGAEX

test_expect_success 'not an age file' '
	echo "$spec_id" >spec-id &&
	printf "hello\\n" >plain &&
	test_expect_code 1 agetool dec spec-id <plain 2>err &&
	echo "agetool: fatal: unable to decrypt: not an age file" >expect &&
	test_cmp expect err
'

test_expect_success 'an identity file without identities' '
	printf "# nothing here\\n\\n" >empty-id &&
	test_expect_code 1 agetool dec empty-id </dev/null 2>err &&
	echo "agetool: fatal: unable to use empty-id: no identity" >expect &&
	test_cmp expect err
'

test_done
