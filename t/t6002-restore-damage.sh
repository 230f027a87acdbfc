#!/bin/sh
test_description='ls-restore: damaged, missing and stray objects; path tricks'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-restore.sh"

G=0123456789abcdef
T0=1700000000
W=generations/$G/wal
SN=generations/$G/snapshots

litestream_setup

# fresh NAME: a copy of the good replica, times kept.
fresh() { rm -rf "$1" && cp -a rep "$1"; }

# flip FILE OFF: inverts the bits of the byte at OFF.
flip() {
	_b=$(od -An -tu1 -j"$2" -N1 "$1" | tr -d " ") &&
	printf "$(printf '\\%03o' $((_b ^ 255)))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# fails NAME CODE MESSAGE [ARGS]: restoring replica NAME exits CODE with
# exactly "ls-restore: fatal: MESSAGE", leaving nothing behind.
fails() {
	_r=$1 _c=$2 _m=$3
	shift 3
	rm -f bad.db
	test_expect_code "$_c" ls-restore "$@" -o bad.db "$_r" 2>err &&
	echo "ls-restore: fatal: $_m" >expect &&
	test_cmp expect err &&
	test ! -e bad.db &&
	no_temp bad.db
}

test_expect_success 'setup: a replica of two WAL indexes' '
	make_source src &&
	make_replica rep $G $T0 src &&
	ls-restore -o good.db rep &&
	dump good.db >good.dump &&
	test_cmp src/state.x2 good.dump
'

test_expect_success 'a missing segment in the middle: gap, naming the bytes' '
	fresh gap &&
	rm gap/$W/00000000_00000850.wal.lz4 &&
	fails gap 100 "unable to restore from gap: $W/00000000_00000c68.wal.lz4: gap: bytes 0x850..0xc68 of WAL index 0 are missing" \
	    -generation $G -index 0
'

test_expect_success 'an index without its offset-0 segment' '
	fresh noinit &&
	rm noinit/$W/00000000_00000000.wal.lz4 &&
	fails noinit 100 "unable to restore from noinit: $W/00000000_00000850.wal.lz4: gap: bytes 0x0..0x850 of WAL index 0 are missing" \
	    -generation $G -index 0
'

test_expect_success 'a missing index between the snapshot and a later one' '
	fresh hole &&
	mv hole/$W/00000001_00000000.wal.lz4 hole/$W/00000002_00000000.wal.lz4 &&
	rm hole/$W/00000001_00000438.wal.lz4 &&
	fails hole 100 "unable to restore from hole: $W/00000001_00000000.wal.lz4: missing: WAL index 1 has no segment, but index 2 has"
'

test_expect_success 'strays and broken indexes below the snapshot are ignored' '
	fresh stray &&
	rm stray/$W/00000000_00000000.wal.lz4 &&
	echo garbage >stray/$W/00000000_00000123.wal.lz4 &&
	echo garbage >stray/$W/00000000_00000850.wal.lz4 &&
	ls-restore -o stray.db stray &&
	dump stray.db >got &&
	test_cmp good.dump got
'

test_expect_success LITESTREAM 'Litestream v0.3.13 fails on the same strays' '
	test_must_fail $LITESTREAM restore -o lstray.db file://$TRASH/stray
'

test_expect_success 'a snapshot with no WAL at all restores alone, with a warning' '
	fresh alone &&
	rm alone/$W/00000001_* &&
	ls-restore -o alone.db alone 2>err &&
	echo "ls-restore: warning: $SN/00000001.snapshot.lz4: no WAL for index 1; restoring the snapshot alone" >expect &&
	test_cmp expect err &&
	dump alone.db >got &&
	test_cmp src/state.w3 got
'

test_expect_success 'a truncated segment' '
	fresh trunc &&
	o=trunc/$W/00000001_00000438.wal.lz4 &&
	head -c $(($(size $o) - 1)) $o >t && mv t $o &&
	fails trunc 100 "unable to restore from trunc: $W/00000001_00000438.wal.lz4: truncated LZ4 frame (1062 bytes)"
'

test_expect_success 'a truncated snapshot' '
	fresh tsnap &&
	o=tsnap/$SN/00000001.snapshot.lz4 &&
	head -c 5000 $o >t && mv t $o &&
	fails tsnap 100 "unable to restore from tsnap: $SN/00000001.snapshot.lz4: truncated LZ4 frame (5000 bytes)"
'

test_expect_success 'an empty object' '
	fresh empty &&
	: >empty/$W/00000001_00000438.wal.lz4 &&
	fails empty 100 "unable to restore from empty: $W/00000001_00000438.wal.lz4: truncated LZ4 frame (0 bytes)"
'

test_expect_success 'an object that is not LZ4, or encrypted with age' '
	fresh magic &&
	echo "not lz4 at all" >magic/$W/00000001_00000438.wal.lz4 &&
	fails magic 100 "unable to restore from magic: $W/00000001_00000438.wal.lz4: not an LZ4 frame (bad magic)" &&
	printf "age-encryption.org/v1\n-> X25519 abc\n" >magic/$W/00000001_00000438.wal.lz4 &&
	fails magic 100 "unable to restore from magic: $W/00000001_00000438.wal.lz4: encrypted with age: give the replica'"'"'s age-identities"
'

test_expect_success 'two LZ4 frames in one object' '
	fresh two &&
	o=two/$W/00000001_00000438.wal.lz4 &&
	cat $o $o >t && mv t $o &&
	fails two 100 "unable to restore from two: $W/00000001_00000438.wal.lz4: data after the end of the LZ4 frame at byte 1063"
'

test_expect_success 'a segment that does not end on a commit frame' '
	fresh nocommit &&
	tail_from src/w3 3176 | head -c 1048 >raw &&
	put_raw nocommit $G 0 c68 raw $((T0 + 20)) &&
	fails nocommit 100 "unable to restore from nocommit: $W/00000000_00000c68.wal.lz4: does not end on a commit frame (WAL index 0: last commit ends at byte 0xc68, the segment at 0x1080)" \
	    -generation $G -index 0
'

test_expect_success 'a frame with a bad checksum' '
	fresh cksum &&
	tail_from src/x2 1080 >raw &&
	flip raw 124 &&
	put_raw cksum $G 1 438 raw $((T0 + 40)) &&
	fails cksum 100 "unable to restore from cksum: $W/00000001_00000438.wal.lz4: bad frame at byte 0x438 of WAL index 1: checksum mismatch"
'

test_expect_success 'a frame of another WAL (salts)' '
	fresh salt &&
	tail_from src/w2 2128 >raw &&
	put_raw salt $G 1 438 raw $((T0 + 40)) &&
	fails salt 100 "unable to restore from salt: $W/00000001_00000438.wal.lz4: frame at byte 0x438 of WAL index 1 has the salts of another WAL"
'

test_expect_success 'an invalid WAL header' '
	fresh hdr &&
	cp src/x1 raw &&
	flip raw 20 &&
	put_raw hdr $G 1 0 raw $((T0 + 30)) &&
	fails hdr 100 "unable to restore from hdr: $W/00000001_00000000.wal.lz4: invalid WAL header" &&
	head -c 20 src/x1 >raw &&
	put_raw hdr $G 1 0 raw $((T0 + 30)) &&
	fails hdr 100 "unable to restore from hdr: $W/00000001_00000000.wal.lz4: truncated WAL header (20 bytes)"
'

test_expect_success 'a partial frame' '
	fresh partial &&
	{ tail_from src/x2 1080 && head -c 10 src/x2; } >raw &&
	put_raw partial $G 1 438 raw $((T0 + 40)) &&
	fails partial 100 "unable to restore from partial: $W/00000001_00000438.wal.lz4: truncated frame at byte 0x850 of WAL index 1"
'

test_expect_success 'two segments holding the same bytes' '
	fresh overlap &&
	put_raw overlap $G 1 0 src/x2 $((T0 + 30)) &&
	fails overlap 100 "unable to restore from overlap: $W/00000001_00000438.wal.lz4: overlap: bytes 0x438..0x850 of WAL index 1 are in two segments"
'

test_expect_success 'a snapshot that is not a database' '
	fresh notdb &&
	echo "hello" >raw &&
	put_snapshot notdb $G 1 raw $((T0 + 30)) &&
	fails notdb 100 "unable to restore from notdb: $SN/00000001.snapshot.lz4: not an SQLite database" &&
	: >raw &&
	put_snapshot notdb $G 1 raw $((T0 + 30)) &&
	fails notdb 100 "unable to restore from notdb: $SN/00000001.snapshot.lz4: empty snapshot, but WAL index 1 follows"
'

test_expect_success 'a snapshot whose page size is not the WAL'"'"'s' '
	fresh pgsz &&
	sql big.db "PRAGMA page_size=4096; PRAGMA journal_mode=wal; CREATE TABLE x(y)" >/dev/null &&
	put_snapshot pgsz $G 1 big.db $((T0 + 30)) &&
	fails pgsz 100 "unable to restore from pgsz: $W/00000001_00000000.wal.lz4: WAL page size 1024 is not the database'"'"'s 4096"
'

test_expect_success 'symbolic links are not objects' '
	fresh links &&
	mv links/$W/00000001_00000438.wal.lz4 elsewhere.lz4 &&
	ln -s "$TRASH/elsewhere.lz4" links/$W/00000001_00000438.wal.lz4 &&
	ln -s /etc/passwd links/$W/00000002_00000000.wal.lz4 &&
	ls-restore -o links.db links &&
	dump links.db >got &&
	test_cmp src/state.x1 got &&
	ln -s "$TRASH/rep/generations/$G" links/generations/fedcba9876543210 &&
	fails links 100 "unable to restore from links: no matching backups found" \
	    -generation fedcba9876543210
'

test_expect_success 'names that only look like objects are ignored' '
	fresh names &&
	d=names/$W &&
	echo junk >$d/.00000002_00000000.wal.lz4.tmp &&
	echo junk >$d/00000002_00000000.wal.lz4.tmp &&
	echo junk >$d/00000002_00000000.WAL.LZ4 &&
	echo junk >$d/0000002_00000000.wal.lz4 &&
	echo junk >$d/000000002_00000000.wal.lz4 &&
	mkdir -p $d/00000003_00000000.wal.lz4 $d/sub names/generations/$G/x &&
	echo junk >$d/sub/00000002_00000000.wal.lz4 &&
	echo junk >$d/00000003_00000000.wal.lz4/00000003_00000000.wal.lz4 &&
	cp names/$SN/00000001.snapshot.lz4 names/generations/$G/x/00000005.snapshot.lz4 &&
	echo junk >names/generations/$G/snapshots/00000005.snapshot.lz4.tmp &&
	mkdir -p "names/generations/../generations/..$G" &&
	ls-restore -o names.db names &&
	dump names.db >got &&
	test_cmp good.dump got &&
	ls-restore -o dots.db names/../names/./ &&
	cmp names.db dots.db
'

test_expect_success 'a replica reached through a symbolic link' '
	ln -s rep replink &&
	ls-restore -o replink.db replink &&
	cmp replink.db good.db
'

test_done
