#!/bin/sh
test_description='age encryption of replica objects: ls-ship-* age-recipients, ls-restore age-identities, checked with the age tool and Litestream v0.3.13'
. "$(dirname "$0")/lib.sh"

litestream_setup
if command -v age >/dev/null && command -v age-keygen >/dev/null; then
	test_set_prereq AGE
else
	peer_missing age "the age and age-keygen programs (Debian package age) are not installed"
fi

rows() { sql "$1" "SELECT count(*), sum(length(v)), sum(b) FROM t"; }
# pub FILE: the recipient of an age-keygen identity file.
pub() { sed -n "s/^# public key: //p" "$1"; }

test_expect_success AGE 'setup: two key pairs, a spool with segments' '
	age-keygen -o k1.txt 2>/dev/null && age-keygen -o k2.txt 2>/dev/null &&
	age-keygen -o other.txt 2>/dev/null &&
	echo "$(pub k1.txt) $(pub k2.txt)" >rcpts &&
	sql db "PRAGMA journal_mode=wal; CREATE TABLE t(b, v)" &&
	{ ls-watch -i 0 -d 3 db spool >names 3>ready & } && pid=$! &&
	wait_for test -s ready &&
	i=1 && while [ $i -le 12 ]; do
		sql db "INSERT INTO t VALUES ($i, randomblob(5000))" &&
		i=$((i + 1)) || exit 1
	done &&
	kill -TERM $pid && wait $pid &&
	rows db >expect.rows
'

test_expect_success AGE 'objects are age files to both recipients; age opens each to the spool object' '
	ls-ship-file -1 -r 0 -O "age-recipients=$(cat rcpts)" spool rep &&
	for n in $(cat names); do
		test "$(head -n 1 rep/$n)" = "age-encryption.org/v1" &&
		test $(grep -ac "^-> X25519 " rep/$n) -ge 2 &&
		age -d -i k1.txt rep/$n | cmp - spool/$n &&
		age -d -i k2.txt rep/$n | cmp - spool/$n || exit 1
	done
'

test_expect_success AGE 'restore with either identity, from a file or the environment' '
	ls-restore -O age-identities-file=$PWD/k1.txt -o r1.db rep &&
	test "$(rows r1.db)" = "$(cat expect.rows)" &&
	LS_AGE_IDENTITIES="$(grep AGE-SECRET-KEY k2.txt)" ls-restore -o r2.db rep &&
	cmp r1.db r2.db &&
	cat other.txt k2.txt >both.txt &&
	ls-restore -O age-identities-file=$PWD/both.txt -o r3.db rep &&
	cmp r1.db r3.db
'

test_expect_success AGE 'no identity, or a wrong one: exit 100, one line, nothing left' '
	snap=$(grep snapshots names | head -n 1) &&
	test_expect_code 100 ls-restore -o x.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: $snap: encrypted with age: give the replica'"'"'s age-identities" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-restore -O age-identities-file=$PWD/other.txt -o x.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: $snap: no identity matches the file'"'"'s recipients" >expect &&
	test_cmp expect err &&
	! ls x.db* 2>/dev/null
'

test_expect_success AGE 'bad keys and a secret on the command line: exit 100, no key echoed' '
	R1=$(pub k1.txt) &&
	test_expect_code 100 ls-ship-file -O age-recipients=age1qqqq spool rep 2>err &&
	grep -q "^ls-ship-file: fatal: -O age-recipients: recipient 1: " err &&
	test_expect_code 100 ls-ship-file -O "age-recipients=$R1 nope" spool rep 2>err &&
	grep -q "^ls-ship-file: fatal: -O age-recipients: recipient 2: " err &&
	key=$(grep AGE-SECRET-KEY k1.txt) &&
	test_expect_code 100 ls-restore -O "age-identities=$key" -o x.db rep 2>err &&
	! grep -q "$key" err &&
	grep -q "a secret is not taken from the command line" err &&
	sed "s/AGE-SECRET-KEY-1./AGE-SECRET-KEY-1Q/" k1.txt >bad.txt &&
	test_expect_code 100 ls-restore -O age-identities-file=$PWD/bad.txt -o x.db rep 2>err &&
	grep -q "^ls-restore: fatal: age-identities: identity 1: " err &&
	! grep -q "AGE-SECRET" err
'

test_expect_success AGE 'merged and encrypted (-i), validated (-V) with the identities' '
	R1=$(pub k1.txt) &&
	ls-ship-file -1 -v -n merged -i 1m -V 1h -r 0 -O "age-recipients=$R1" \
	    -O age-identities-file=$PWD/k1.txt spool mrep 2>err &&
	grep -q "info: validated mrep: it restores to the spool'"'"'s database" err &&
	test $(find mrep -name "*.wal.lz4" | wc -l) = 1 &&
	ls-restore -O age-identities-file=$PWD/k1.txt -o m.db mrep &&
	cmp m.db r1.db &&
	test_expect_code 100 ls-ship-file -1 -n m2 -V 1h -O "age-recipients=$R1" spool m2rep 2>err &&
	echo "ls-ship-file: fatal: -V: validating a replica encrypted with age needs its age-identities" >expect &&
	test_cmp expect err
'

test_expect_success AGE 'config: keys per replica, the identity kept out of argv; ls-exec restores' '
	R1=$(pub k1.txt) &&
	cat >age.conf <<-EOF &&
	[db]
	path = $PWD/cdb
	[replica]
	path = $PWD/crep
	age-recipients = $R1
	age-identities = \${AGE_ID}
	validation-interval = 1h
	EOF
	AGE_ID=$(grep AGE-SECRET-KEY k1.txt) && export AGE_ID &&
	ls-replicate -n -config age.conf &&
	sql cdb "PRAGMA journal_mode=wal; CREATE TABLE t(b, v); INSERT INTO t VALUES (1, randomblob(100))" &&
	{ ls-replicate -config age.conf 2>rep.err & } && pid=$! &&
	test_atexit "kill -9 $pid" &&
	wait_for has_file "crep/generations/*/snapshots/*.snapshot.lz4" &&
	spid=$(pgrep -P $pid -x ls-ship-file) &&
	! tr "\0" " " </proc/$spid/cmdline | grep -q AGE-SECRET &&
	tr "\0" "\n" </proc/$spid/environ | grep -q "^LS_AGE_IDENTITIES=AGE-SECRET-KEY-" &&
	kill -TERM $pid && wait $pid &&
	! grep -q AGE-SECRET rep.err &&
	head -n 1 crep/generations/*/snapshots/*.snapshot.lz4 | grep -qx "age-encryption.org/v1" &&
	mv cdb cdb.orig && rm -f cdb-wal cdb-shm &&
	ls-exec -restore-if-db-not-exists -config age.conf true &&
	test "$(sql cdb "SELECT count(*) FROM t")" = 1
'

test_expect_success AGE 'config errors name the file and line' '
	printf "[db]\npath = %s/cdb\n[replica]\npath = %s/crep\nage-recipients = age1nope\n" "$PWD" "$PWD" >bad.conf &&
	test_expect_code 100 ls-replicate -n -config bad.conf 2>err &&
	grep -q "^ls-replicate: fatal: bad.conf:5: age-recipients: recipient 1: " err &&
	printf "validation-interval = 1h\n[db]\npath = %s/cdb\n[replica]\npath = %s/crep\nage-recipients = %s\n" "$PWD" "$PWD" "$(pub k1.txt)" >noid.conf &&
	test_expect_code 100 ls-replicate -n -config noid.conf 2>err &&
	echo "ls-replicate: fatal: noid.conf:4: validation-interval: validating a replica encrypted with age needs its age-identities" >expect &&
	test_cmp expect err &&
	printf "age-identities-file = %s/k1.txt\n" "$PWD" | cat - noid.conf >withid.conf &&
	ls-replicate -n -config withid.conf
'

test_expect_success LITESTREAM,AGE 'Litestream v0.3.13 with age: ls-restore reads its replica' '
	cat >lt-age.yml <<-EOF &&
	dbs:
	  - path: $PWD/ltdb
	    replicas:
	      - url: file://$PWD/ltrep
	        age:
	          identities: [$(grep AGE-SECRET-KEY k1.txt)]
	          recipients: [$(pub k1.txt)]
	EOF
	sql ltdb "PRAGMA journal_mode=wal; CREATE TABLE t(b, v)" &&
	{ "$LITESTREAM" replicate -config lt-age.yml >lt.log 2>&1 & } && lpid=$! &&
	test_atexit "kill -9 $lpid" &&
	wait_for has_file "ltrep/generations/*/snapshots/*.snapshot.lz4" &&
	i=1 && while [ $i -le 5 ]; do
		sql -cmd ".timeout 10000" ltdb "INSERT INTO t VALUES ($i, randomblob(3000))" &&
		i=$((i + 1)) || exit 1
	done &&
	sleep 2 && kill -TERM $lpid && wait_for eval "! kill -0 $lpid" &&
	head -n 1 $(ls ltrep/generations/*/wal/* | head -n 1) | grep -qx "age-encryption.org/v1" &&
	ls-restore -O age-identities-file=$PWD/k1.txt -o from-lt.db ltrep &&
	test "$(sql from-lt.db "SELECT count(*), sum(b) FROM t")" = "5|15"
'

test_expect_success LITESTREAM,AGE 'and Litestream restores ours' '
	cat >lt-ours.yml <<-EOF &&
	dbs:
	  - path: $PWD/unused.db
	    replicas:
	      - url: file://$PWD/mrep
	        age:
	          identities: [$(grep AGE-SECRET-KEY k1.txt)]
	          recipients: [$(pub k1.txt)]
	EOF
	"$LITESTREAM" restore -config lt-ours.yml -o lt-m.db "$PWD/unused.db" 2>lt.err &&
	test "$(rows lt-m.db)" = "$(cat expect.rows)"
'

test_done
