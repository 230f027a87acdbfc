#!/bin/sh
test_description='ls-list: generations and objects of a replica'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-restore.sh"

G=0123456789abcdef
H=fedcba9876543210
I=00000000ffffffff
T0=1700000000
TAB=$(printf '\t')

command -v script >/dev/null 2>&1 && test_set_prereq SCRIPT

test_expect_success 'setup: three generations and some stray files' '
	make_source src &&
	make_replica rep $G $T0 src &&
	put_snapshot rep $H 0 src/snap0 $((T0 + 100)) &&
	put_snapshot rep $I 3 src/snap0 $((T0 + 200)) &&
	touch -d @$((T0 + 200)).987654321 rep/generations/$I/snapshots/00000003.snapshot.lz4 &&
	put_raw rep $I 3 0 src/x1 $((T0 + 150)) &&
	echo junk >rep/generations/$G/wal/00000009_00000000.wal.lz4.tmp &&
	echo junk >rep/generations/$G/README &&
	mkdir -p rep/generations/notagen/snapshots rep/acks &&
	echo junk >rep/generations/notagen/snapshots/00000000.snapshot.lz4 &&
	echo junk >rep/acks/file
'

test_expect_success 'one line per generation, by start time' '
	ls-list rep >out 2>err &&
	tr "|" "\t" >expect <<-EOF &&
	$G|2023-11-14T22:13:20.000Z|2023-11-14T22:14:00.000Z|2|5|31297
	$H|2023-11-14T22:15:00.000Z|2023-11-14T22:15:00.000Z|1|0|1039
	$I|2023-11-14T22:15:50.000Z|2023-11-14T22:16:40.987Z|1|1|2134
	EOF
	test_cmp expect out &&
	test ! -s err
'

test_expect_success 'file:///DIR is the same replica' '
	ls-list file://$TRASH/rep >out2 &&
	test_cmp out out2
'

test_expect_success '-g: one line per object, in restore order' '
	ls-list -g $G rep >out &&
	tr "|" "\t" >expect <<-EOF &&
	snapshot|00000000|-|1039|2023-11-14T22:13:20.000Z|generations/$G/snapshots/00000000.snapshot.lz4
	wal|00000000|00000000|2143|2023-11-14T22:13:20.000Z|generations/$G/wal/00000000_00000000.wal.lz4
	wal|00000000|00000850|1063|2023-11-14T22:13:30.000Z|generations/$G/wal/00000000_00000850.wal.lz4
	wal|00000000|00000c68|12591|2023-11-14T22:13:40.000Z|generations/$G/wal/00000000_00000c68.wal.lz4
	snapshot|00000001|-|12303|2023-11-14T22:13:50.000Z|generations/$G/snapshots/00000001.snapshot.lz4
	wal|00000001|00000000|1095|2023-11-14T22:13:50.000Z|generations/$G/wal/00000001_00000000.wal.lz4
	wal|00000001|00000438|1063|2023-11-14T22:14:00.000Z|generations/$G/wal/00000001_00000438.wal.lz4
	EOF
	test_cmp expect out
'

test_expect_success 'columns serve cut and sort' '
	test "$(ls-list rep | cut -f1 | tr "\n" " ")" = "$G $H $I " &&
	test "$(ls-list -g $G rep | awk -F"$TAB" "\$1 == \"wal\" { n += \$4 } END { print n }")" = 17955
'

test_expect_success SCRIPT 'a header line for a terminal only' '
	script -qec "ls-list -g $H rep" /dev/null | tr -d "\r" >out &&
	tr "|" "\t" >expect <<-EOF &&
	type|index|offset|size|created|name
	snapshot|00000000|-|1039|2023-11-14T22:15:00.000Z|generations/$H/snapshots/00000000.snapshot.lz4
	EOF
	test_cmp expect out &&
	script -qec "ls-list rep" /dev/null | tr -d "\r" | head -n 1 >out &&
	tr "|" "\t" >expect <<-EOF &&
	generation|start|end|snapshots|wals|bytes
	EOF
	test_cmp expect out
'

test_expect_success 'no generation: exit 1, nothing printed' '
	mkdir empty &&
	test_expect_code 1 ls-list empty >out 2>err &&
	test ! -s out &&
	test ! -s err &&
	test_expect_code 1 ls-list -g 1111111111111111 rep >out 2>err &&
	test ! -s out &&
	test ! -s err
'

test_expect_success 'errors: exit 100, one line' '
	test_expect_code 100 ls-list nowhere 2>err &&
	echo "ls-list: fatal: unable to open replica nowhere: No such file or directory" >expect &&
	test_cmp expect err &&
	test_expect_code 100 ls-list -g ../../etc rep 2>err &&
	echo "ls-list: fatal: unable to parse arguments: -g ../../etc: not 16 lowercase hex digits" >expect &&
	test_cmp expect err &&
	echo "ls-list: usage: ls-list [-v] [-g GEN] [-O KEY=VALUE]... REPLICA" >expect &&
	for args in "" "-g" "-x rep" "rep rep" "-g $G"; do
		test_expect_code 100 ls-list $args 2>err &&
		test_cmp expect err || exit 1
	done
'

test_done
