#!/bin/sh
test_description='ls-restore: latest, -timestamp, -generation/-index, options'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-restore.sh"

G=0123456789abcdef
T0=1700000000
R=$TRASH/rep

command -v flock >/dev/null 2>&1 && test_set_prereq FLOCK

test_expect_success 'setup: a replica of two WAL indexes' '
	make_source src &&
	make_replica rep $G $T0 src
'

test_expect_success 'restore the newest state, quietly' '
	ls-restore -o out.db rep >out 2>err &&
	test ! -s out &&
	test ! -s err &&
	dump out.db >got &&
	test_cmp src/state.x2 got &&
	test "$(sql out.db "PRAGMA integrity_check")" = ok &&
	no_temp out.db
'

test_expect_success 'the restored database is in WAL mode, like the source' '
	test "$(od -An -tu1 -j18 -N2 out.db | tr -s " ")" = " 2 2" &&
	test "$(sql out.db "PRAGMA journal_mode")" = wal
'

test_expect_success 'file:///DIR and --flag=value spellings' '
	ls-restore --o=url.db file://$R &&
	dump url.db >got &&
	test_cmp src/state.x2 got
'

test_expect_success '-v: one info line per step' '
	ls-restore -v -o v.db rep 2>err &&
	cat >expect <<-EOF &&
	ls-restore: info: generation $G: 2023-11-14T22:13:20.000Z to 2023-11-14T22:14:00.000Z
	ls-restore: info: snapshot generations/$G/snapshots/00000001.snapshot.lz4: 12303 bytes
	ls-restore: info: WAL: 2 segments in 1 index, 2158 bytes
	ls-restore: info: restored snapshot generations/$G/snapshots/00000001.snapshot.lz4: 12288 bytes
	ls-restore: info: applied WAL index 1: 2 segments, 2 frames, 2128 bytes
	ls-restore: info: restored v.db
	EOF
	test_cmp expect err
'

# Each point in time, and the state it must give.
for at in "5 w1" "10 w2" "15 w2" "20 w3" "29 w3" "30 x1" "35 x1" "40 x2" "100000 x2"; do
	set -- $at
	test_expect_success "-timestamp T0+$1 gives state $2" "
		ls-restore -timestamp $(rfc3339 $((T0 + $1))) -o at$1.db rep &&
		dump at$1.db >got &&
		test_cmp src/state.$2 got
	"
done

test_expect_success '-timestamp with fractions and offsets' '
	ls-restore -timestamp 2023-11-15T00:13:30.999999999+02:00 -o frac.db rep &&
	dump frac.db >got &&
	test_cmp src/state.w2 got &&
	ls-restore -timestamp 2023-11-14T12:13:40-10:00 -o off.db rep &&
	dump off.db >got &&
	test_cmp src/state.w3 got
'

test_expect_success '-timestamp before every object: no backup, exit 100' '
	test_expect_code 100 ls-restore -timestamp $(rfc3339 $((T0 - 1))) \
	    -o early.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: no matching backups found" >expect &&
	test_cmp expect err &&
	test ! -e early.db &&
	no_temp early.db
'

test_expect_success '-if-replica-exists: no backup is not an error' '
	ls-restore -if-replica-exists -timestamp $(rfc3339 $((T0 - 1))) \
	    -o early.db rep 2>err &&
	test ! -s err &&
	test ! -e early.db &&
	ls-restore -if-replica-exists -o none.db missing-dir 2>err &&
	test ! -s err &&
	mkdir empty &&
	ls-restore -if-replica-exists -o none.db empty &&
	test ! -e none.db
'

test_expect_success 'no backup, no replica: exit 100' '
	test_expect_code 100 ls-restore -o none.db empty 2>err &&
	echo "ls-restore: fatal: unable to restore from empty: no matching backups found" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-restore -o none.db missing-dir 2>err &&
	echo "ls-restore: fatal: unable to open replica missing-dir: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success '-generation and -index' '
	ls-restore -generation $G -index 0 -o i0.db rep &&
	dump i0.db >got &&
	test_cmp src/state.w3 got &&
	ls-restore -generation $G -index 1 -o i1.db rep &&
	dump i1.db >got &&
	test_cmp src/state.x2 got &&
	ls-restore -generation $G -index 00000001 -o i1b.db rep &&
	ls-restore -generation $G -o g.db rep &&
	dump g.db >got &&
	test_cmp src/state.x2 got
'

test_expect_success '-index past the end of the generation: exit 100' '
	test_expect_code 100 ls-restore -generation $G -index 2 -o i2.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: generation $G has no WAL index 2 (the last is 1)" >expect &&
	test_cmp expect err &&
	test ! -e i2.db
'

test_expect_success 'unknown -generation: no backup' '
	test_expect_code 100 ls-restore -generation fedcba9876543210 -o u.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore from rep: no matching backups found" >expect &&
	test_cmp expect err
'

test_expect_success 'an existing OUT is never overwritten: exit 100' '
	echo precious >exists.db &&
	test_expect_code 100 ls-restore -o exists.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore to exists.db: File exists" >expect &&
	test_cmp expect err &&
	test "$(cat exists.db)" = precious &&
	ln -s nowhere dangling.db &&
	test_expect_code 100 ls-restore -o dangling.db rep 2>err &&
	test ! -e nowhere
'

test_expect_success 'a journal left without its database: exit 100' '
	cp src/w3 orphan.db-wal &&
	test_expect_code 100 ls-restore -o orphan.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore to orphan.db: orphan.db-wal exists without its database" >expect &&
	test_cmp expect err &&
	test ! -e orphan.db &&
	test ! -e orphan.db.tmp &&
	cmp src/w3 orphan.db-wal &&
	rm orphan.db-wal &&
	echo junk >orphan.db-journal &&
	test_expect_code 100 ls-restore -o orphan.db rep 2>err &&
	echo "ls-restore: fatal: unable to restore to orphan.db: orphan.db-journal exists without its database" >expect &&
	test_cmp expect err
'

test_expect_success '-if-db-not-exists: an existing OUT is success' '
	ls-restore -if-db-not-exists -o exists.db rep 2>err &&
	test ! -s err &&
	test "$(cat exists.db)" = precious
'

test_expect_success 'what a killed restore left is cleared' '
	echo junk >stale.db.tmp &&
	cp src/w3 stale.db.tmp-wal &&
	echo junk >stale.db.tmp-shm &&
	ls-restore -o stale.db rep &&
	dump stale.db >got &&
	test_cmp src/state.x2 got &&
	no_temp stale.db
'

test_expect_success FLOCK 'a restore in progress to the same OUT: exit 111, its files kept' '
	flock locked.db.tmp sh -c "echo \$\$ >flock.pid; exec sleep 30" &
	wait_for test -s flock.pid &&
	test_atexit "kill $(cat flock.pid)" &&
	echo "in progress" >locked.db.tmp-wal &&
	test_expect_code 111 ls-restore -o locked.db rep 2>err &&
	echo "ls-restore: fatal: unable to lock locked.db.tmp: another restore is writing it" >expect &&
	test_cmp expect err &&
	test -e locked.db.tmp &&
	test "$(cat locked.db.tmp-wal)" = "in progress" &&
	test ! -e locked.db &&
	kill $(cat flock.pid)
'

test_expect_success 'OUT in a directory that does not exist yet' '
	ls-restore -o sub/dir/new.db rep &&
	dump sub/dir/new.db >got &&
	test_cmp src/state.x2 got &&
	no_temp sub/dir/new.db
'

test_expect_success '-parallelism 1 and 3 give the same database' '
	ls-restore -parallelism 1 -o p1.db rep &&
	ls-restore -parallelism=3 -o p3.db rep &&
	cmp p1.db p3.db &&
	cmp p1.db out.db
'

test_expect_success 'usage errors: exit 100, one line' '
	usage="ls-restore: usage: ls-restore [-v] -o OUT [-generation GEN] [-index IDX] [-timestamp TIME] [-parallelism N] [-if-db-not-exists] [-if-replica-exists] [-O KEY=VALUE]... REPLICA" &&
	echo "$usage" >expect &&
	for args in "rep" "-o" "-o x.db" "-o x.db rep extra" "-x -o x.db rep" \
	    "-v=true -o x.db rep" "-o x.db -- " "-o= rep"; do
		test_expect_code 100 ls-restore $args 2>err &&
		test_cmp expect err || exit 1
	done &&
	test ! -e x.db
'

test_expect_success 'bad option values: exit 100, saying which' '
	while IFS="|" read -r args msg; do
		test_expect_code 100 ls-restore $args -o x.db rep 2>err &&
		echo "ls-restore: fatal: unable to parse arguments: $msg" >expect &&
		test_cmp expect err || exit 1
	done <<-EOF &&
	-index=1|-index needs -generation
	-generation=$G -index=1 -timestamp=2024-01-01T00:00:00Z|-index and -timestamp cannot be used together
	-generation=$G -index=123456789|-index 123456789: not a hex number of at most 8 digits
	-generation=$G -index=0x1|-index 0x1: not a hex number of at most 8 digits
	-generation=../../etc|-generation ../../etc: not 16 lowercase hex digits
	-generation=0123456789ABCDEF|-generation 0123456789ABCDEF: not 16 lowercase hex digits
	-timestamp=2024-01-01|-timestamp 2024-01-01: not an RFC 3339 time
	-timestamp=2024-02-30T00:00:00Z|-timestamp 2024-02-30T00:00:00Z: not an RFC 3339 time
	-parallelism=0|-parallelism 0: not a number from 1 to 256
	-parallelism=257|-parallelism 257: not a number from 1 to 256
	-parallelism=-1|-parallelism -1: not a number from 1 to 256
	EOF
	test ! -e x.db
'

test_expect_success 'a replica URL of another scheme: exit 100' '
	test_expect_code 100 ls-restore -o x.db s4://bucket/db 2>err &&
	echo "ls-restore: fatal: s4://bucket/db: unsupported replica URL scheme (file, s3, abs, gcs, sftp)" >expect &&
	test_cmp expect err
'

test_done
