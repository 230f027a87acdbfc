#!/bin/sh
test_description='sftp peer: a private sshd for a throwaway user (keys, password, agent, host keys, kill and restart)'
. "$(dirname "$0")/lib.sh"
. "$TEST_DIRECTORY/lib-sftp.sh"

sftp_setup && sftp_agent

# listening PORT: the TCP listeners on PORT, as ADDR:PORT in hex.
listening() {
	awk -v p=":$(printf %04X "$1")" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { print $2 }' \
	    /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# logged PATTERN: sshd has logged a line matching the extended regex
# PATTERN.
logged() { sftp_log | grep -qE "$1"; }

# accepted KIND FILE: sshd has logged a login of the user with the key of
# KIND (ED25519, RSA, ECDSA) whose public half is FILE.
accepted() {
	sftp_log | awk -v u="$SFTP_USER" -v k="$1" -v f="$(fp "$2")" '
	    $0 ~ /^Accepted publickey for / && $4 == u && $6 == "127.0.0.1" &&
	    $9 == "ssh2:" && $10 == k && $11 == f && NF == 11 { ok = 1 }
	    END { exit !ok }'
}

# said PATTERN: the client said a line matching PATTERN (a basic regex) on
# stderr, in err. (ssh ends its messages in CR LF.)
said() { tr -d '\r' <err | grep -q "$1"; }

# fp FILE: the SHA256 fingerprint of the key in FILE.
fp() { ssh-keygen -l -f "$1" | cut -d" " -f2; }

# session_start: an sftp session in the background, fed by fd 3 from the
# fifo "in", its output in "out" and "err", its pid in "client.pid" and,
# once it ends, its exit code in "client.rc"; it has run "pwd" once started.
session_start() {
	rm -f in out err client.pid client.rc &&
	mkfifo in || return 1
	{ sftp_client <in >out 2>err; echo $? >client.rc; } &
	echo $! >client.pid &&
	exec 3>in &&
	echo pwd >&3 &&
	wait_for grep -q "^Remote working directory: $SFTP_HOME\$" out
}

# client_alive: the background sftp still runs.
client_alive() { sftp_running "$(cat client.pid)"; }

# session_procs: how many processes sshd runs for the user's sessions.
session_procs() {
	n=0
	for pid in $(sftp_procs); do
		tr "\0" " " <"/proc/$pid/cmdline" 2>/dev/null |
		    grep -q "^sshd: ${SFTP_USER}[@ ]" && n=$((n + 1))
	done
	echo $n
}

test_expect_success SFTP 'sshd runs on loopback only (127.0.0.1, and ::1 where there is one), for one user' '
	echo "0100007F:$(printf %04X $SFTP_PORT)" >want &&
	if sftp_have_ipv6; then
		echo "00000000000000000000000001000000:$(printf %04X $SFTP_PORT)" >>want
	fi &&
	listening $SFTP_PORT >got &&
	test_cmp want got &&
	test "$SFTP_HOST" = 127.0.0.1 &&
	pid=$(sftp_pid) &&
	test "$(cat "$SFTP_DIR/sshd.pid")" = "$pid" &&
	tr "\0" " " <"/proc/$pid/cmdline" >cmdline &&
	grep -q "^sshd: /usr/sbin/sshd -D -E $SFTP_LOG -f $SFTP_CONFIG \[listener\]" cmdline &&
	logged "^Server listening on 127.0.0.1 port $SFTP_PORT\.$" &&
	grep -qx "AllowUsers $SFTP_USER" "$SFTP_CONFIG" &&
	grep -qx "ListenAddress 127.0.0.1" "$SFTP_CONFIG" &&
	grep -qx "PubkeyAcceptedAlgorithms +ssh-rsa" "$SFTP_CONFIG"
'

test_expect_success SFTP 'the user has its home, its password and an authorized_keys it can read' '
	case $SFTP_USER in
	lst[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]) ;;
	*) echo "bad user name $SFTP_USER" >&2; false ;;
	esac &&
	getent passwd "$SFTP_USER" | cut -d: -f6,7 >got &&
	echo "$SFTP_HOME:/bin/sh" >want &&
	test_cmp want got &&
	test "$(stat -c "%U %a" "$SFTP_HOME")" = "$SFTP_USER 755" &&
	test "$(stat -c "%U %a" "$SFTP_HOME/.ssh")" = "$SFTP_USER 700" &&
	test "$(stat -c "%U %a" "$SFTP_HOME/.ssh/authorized_keys")" = "$SFTP_USER 600" &&
	runuser -u "$SFTP_USER" -- cat "$SFTP_HOME/.ssh/authorized_keys" >keys &&
	for k in "$SFTP_KEY_ED25519" "$SFTP_KEY_RSA" "$SFTP_KEY_RSA_OPENSSH" \
	    "$SFTP_KEY_ECDSA" "$SFTP_KEY_PASS"; do
		grep -qxF "$(cat "$k.pub")" keys || return 1
	done &&
	test $(wc -l <keys) = 5 &&
	test ${#SFTP_PASSWORD} -ge 20 &&
	test ${#SFTP_KEY_PASSPHRASE} -ge 20 &&
	test "$SFTP_PASSWORD" != "$SFTP_KEY_PASSPHRASE" &&
	ls -A "$SFTP_HOME" >got &&
	echo .ssh >want &&
	test_cmp want got
'

test_expect_success SFTP 'the keys have the formats they are named for' '
	head -n 1 "$SFTP_KEY_RSA" >got &&
	echo "-----BEGIN RSA PRIVATE KEY-----" >want &&
	test_cmp want got &&
	echo "-----BEGIN OPENSSH PRIVATE KEY-----" >want &&
	for k in "$SFTP_KEY_ED25519" "$SFTP_KEY_RSA_OPENSSH" "$SFTP_KEY_ECDSA" \
	    "$SFTP_KEY_PASS"; do
		head -n 1 "$k" >got && test_cmp want got || return 1
	done &&
	for k in ED25519:"$SFTP_KEY_ED25519" RSA:"$SFTP_KEY_RSA" \
	    RSA:"$SFTP_KEY_RSA_OPENSSH" ECDSA:"$SFTP_KEY_ECDSA" \
	    ED25519:"$SFTP_KEY_PASS"; do
		ssh-keygen -l -f "${k#*:}.pub" >got &&
		grep -q "($(echo ${k%%:*}))\$" got || return 1
	done &&
	test "$(ssh-keygen -l -f "$SFTP_KEY_RSA.pub" | cut -d" " -f1)" = 3072 &&
	test "$(ssh-keygen -l -f "$SFTP_KEY_ECDSA.pub" | cut -d" " -f1)" = 256 &&
	test_must_fail ssh-keygen -y -P "" -f "$SFTP_KEY_PASS" 2>err &&
	test_must_fail ssh-keygen -y -P wrong -f "$SFTP_KEY_PASS" 2>err &&
	ssh-keygen -y -P "$SFTP_KEY_PASSPHRASE" -f "$SFTP_KEY_PASS" >got &&
	test_cmp "$SFTP_KEY_PASS.pub" got
'

test_expect_success SFTP 'ssh-keyscan shows the host key; the other key differs' '
	ssh-keyscan -T 5 -p $SFTP_PORT 127.0.0.1 >scan 2>/dev/null &&
	cat "$SFTP_KNOWN_HOSTS" >want &&
	test_cmp want scan &&
	echo "[127.0.0.1]:$SFTP_PORT $SFTP_HOSTKEY_PUB" >want &&
	test_cmp want "$SFTP_KNOWN_HOSTS" &&
	echo "[127.0.0.1]:$SFTP_PORT $SFTP_OTHER_HOSTKEY_PUB" >want &&
	test_cmp want "$SFTP_OTHER_KNOWN_HOSTS" &&
	case $SFTP_HOSTKEY_PUB in
	"ssh-ed25519 "*" "*) false ;;
	"ssh-ed25519 "?*) ;;
	*) false ;;
	esac &&
	case $SFTP_OTHER_HOSTKEY_PUB in
	"ssh-ed25519 "?*) ;;
	*) false ;;
	esac &&
	test "$SFTP_HOSTKEY_PUB" != "$SFTP_OTHER_HOSTKEY_PUB" &&
	test "$(fp "$SFTP_KNOWN_HOSTS")" = "$SFTP_HOSTKEY_FP" &&
	case $SFTP_HOSTKEY_FP in
	SHA256:???????????????????????????????????????????) ;;
	*) false ;;
	esac &&
	test "$(fp "$SFTP_OTHER_KNOWN_HOSTS")" != "$SFTP_HOSTKEY_FP"
'

test_expect_success SFTP 'each key logs in and puts, renames and gets a file' '
	echo hello >hello &&
	for k in ED25519:"$SFTP_KEY_ED25519" RSA:"$SFTP_KEY_RSA" \
	    RSA:"$SFTP_KEY_RSA_OPENSSH" ECDSA:"$SFTP_KEY_ECDSA" \
	    ED25519:"$SFTP_KEY_PASS"; do
		kind=${k%%:*} k=${k#*:} &&
		n=$(basename "$k") &&
		sftp_client -i "$k" >out <<-EOF &&
		mkdir $n
		put hello $n/up.tmp
		rename $n/up.tmp $n/up.txt
		get $n/up.txt $n.got
		EOF
		test_cmp hello $n.got &&
		test_cmp hello "$SFTP_HOME/$n/up.txt" &&
		test "$(stat -c %U "$SFTP_HOME/$n/up.txt")" = "$SFTP_USER" &&
		! test -e "$SFTP_HOME/$n/up.tmp" &&
		accepted $kind "$k.pub" ||
		return 1
	done &&
	logged "^Starting session: forced-command \(config\) .internal-sftp. for $SFTP_USER from 127.0.0.1"
'

# libssh2 1.10 signs with RSA keys only as ssh-rsa (SHA-1), which OpenSSH
# refuses unless told otherwise.
test_expect_success SFTP 'an RSA key signing with ssh-rsa (SHA-1) is taken, as configured' '
	rsa() {
		echo pwd |
		    sftp_client -i "$1" -o PubkeyAcceptedAlgorithms=ssh-rsa >out
	} &&
	rsa "$SFTP_KEY_RSA" &&
	rsa "$SFTP_KEY_RSA_OPENSSH" &&
	! logged "signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms" &&
	cp "$SFTP_CONFIG" config.saved &&
	sftp_stop &&
	grep -v "^PubkeyAcceptedAlgorithms " config.saved >"$SFTP_CONFIG" &&
	sftp_start &&
	test_must_fail rsa "$SFTP_KEY_RSA" 2>err &&
	said "Permission denied (publickey,password)" &&
	logged "^userauth_pubkey: signature algorithm ssh-rsa not in PubkeyAcceptedAlgorithms \[preauth\]\$" &&
	sftp_stop &&
	cp config.saved "$SFTP_CONFIG" &&
	sftp_start &&
	rsa "$SFTP_KEY_RSA"
'

test_expect_success SFTP 'a key not in authorized_keys is refused' '
	ssh-keygen -q -t ed25519 -N "" -f stranger </dev/null &&
	test_must_fail sftp_client -i stranger </dev/null >out 2>err &&
	said "^$SFTP_USER@127.0.0.1: Permission denied (publickey,password)\.$" &&
	! test -s out
'

test_expect_success SFTP 'the passphrase key needs its passphrase' '
	echo pwd | SFTP_KEY_PASSPHRASE=wrong test_must_fail \
	    sftp_client -i "$SFTP_KEY_PASS" >out 2>err &&
	said "Permission denied (publickey,password)" &&
	echo pwd | sftp_client -i "$SFTP_KEY_PASS" >out &&
	grep -qx "Remote working directory: $SFTP_HOME" out
'

test_expect_success SFTP 'the password logs in; a wrong one is refused' '
	echo hello >hello &&
	printf "%s\n" "put hello pw.txt" "ls -l pw.txt" |
	    sftp_client --password >out &&
	test_cmp hello "$SFTP_HOME/pw.txt" &&
	logged "^Accepted password for $SFTP_USER from 127.0.0.1 port [0-9]+ ssh2\$" &&
	echo pwd | SFTP_PASSWORD=wrong-$SFTP_PASSWORD test_must_fail \
	    sftp_client --password >out 2>err &&
	said "^$SFTP_USER@127.0.0.1: Permission denied (publickey,password)\.$" &&
	logged "^Failed password for $SFTP_USER from 127.0.0.1 port [0-9]+ ssh2\$" &&
	! grep -qF "$SFTP_PASSWORD" "$SFTP_LOG" &&
	! grep -qF "$SFTP_KEY_PASSPHRASE" "$SFTP_LOG"
'

test_expect_success SFTP 'only the user may log in' '
	for u in root nobody; do
		echo pwd | test_must_fail timeout 60 sftp -F none \
		    -o IdentityAgent=none -o IdentitiesOnly=yes \
		    -i "$SFTP_KEY_ED25519" \
		    -o UserKnownHostsFile="$SFTP_KNOWN_HOSTS" \
		    -o StrictHostKeyChecking=yes -b - -P $SFTP_PORT \
		    $u@127.0.0.1 >out 2>err &&
		said "^$u@127.0.0.1: Permission denied" &&
		logged "^User $u from 127.0.0.1 not allowed because not listed in AllowUsers\$" ||
		return 1
	done
'

test_expect_success SFTP 'a changed host key is refused' '
	echo pwd | test_must_fail sftp_client \
	    -o UserKnownHostsFile="$SFTP_OTHER_KNOWN_HOSTS" >out 2>err &&
	said "REMOTE HOST IDENTIFICATION HAS CHANGED" &&
	said "^Host key verification failed\.$" &&
	: >empty &&
	echo pwd | test_must_fail sftp_client -o UserKnownHostsFile="$PWD/empty" \
	    >out 2>err &&
	said "^No ED25519 host key is known for \[127.0.0.1\]:$SFTP_PORT" &&
	! test -s empty
'

test_expect_success SFTP_AGENT 'the agent holds the ed25519 key and logs in with it' '
	ssh-add -l >got &&
	test $(wc -l <got) = 1 &&
	test "$(cut -d" " -f2 got)" = "$(fp "$SFTP_KEY_ED25519.pub")" &&
	echo pwd | sftp_client --agent >out &&
	grep -qx "Remote working directory: $SFTP_HOME" out &&
	accepted ED25519 "$SFTP_KEY_ED25519.pub" &&
	echo pwd | SSH_AUTH_SOCK=/nonexistent test_must_fail \
	    sftp_client --agent >out 2>err &&
	said "Permission denied"
'

test_expect_success SFTP 'sftp_ls and sftp_cat read over SFTP' '
	echo one >one &&
	echo "two words" >two &&
	sftp_client >out <<-\EOF &&
	mkdir tree
	mkdir tree/a
	mkdir "tree/a/b c"
	mkdir tree/empty
	put one tree/top.txt
	put two "tree/a/b c/odd name+a=b~c%d&e [1].txt"
	put one tree/a/.hidden
	EOF
	sftp_ls tree >got &&
	cat >want <<-\EOF &&
	a/.hidden
	a/b c/odd name+a=b~c%d&e [1].txt
	top.txt
	EOF
	test_cmp want got &&
	(cd "$SFTP_HOME/tree" && find . -type f | sed "s|^\./||" | sort) >got &&
	test_cmp want got &&
	sftp_ls tree/ >got &&
	test_cmp want got &&
	sftp_ls "tree/a/b c" >got &&
	echo "odd name+a=b~c%d&e [1].txt" >want &&
	test_cmp want got &&
	sftp_ls "$SFTP_HOME/tree/a" >got &&
	printf "%s\n" .hidden "b c/odd name+a=b~c%d&e [1].txt" >want &&
	test_cmp want got &&
	sftp_ls >got &&
	grep -qx .ssh/authorized_keys got &&
	grep -qx tree/top.txt got &&
	sftp_ls tree/empty >got &&
	! test -s got &&
	sftp_cat "tree/a/b c/odd name+a=b~c%d&e [1].txt" >got &&
	test_cmp two got &&
	sftp_cat "$SFTP_HOME/tree/top.txt" >got &&
	test_cmp one got &&
	test_must_fail sftp_cat tree/missing >got 2>err &&
	said "not found" &&
	test_must_fail sftp_ls tree/missing >got 2>err
'

test_expect_success SFTP 'sftp_kill cuts live sessions; sftp_start comes back the same' '
	session_start &&
	test "$(session_procs)" -ge 2 &&
	old=$(sftp_pid) &&
	sftp_kill &&
	echo ls >&3 &&
	wait_for eval "! client_alive" &&
	exec 3>&- &&
	said "^Connection to 127.0.0.1 closed by remote host\.$" &&
	test "$(cat client.rc)" != 0 &&
	! sftp_running $old &&
	test -z "$(sftp_procs)" &&
	test -z "$(listening $SFTP_PORT)" &&
	test_must_fail sftp_pid &&
	! sftp_answers &&
	sftp_start &&
	new=$(sftp_pid) &&
	test "$new" != "$old" &&
	sftp_scan >scan &&
	test_cmp "$SFTP_KNOWN_HOSTS" scan &&
	echo pwd | sftp_client >out &&
	grep -qx "Remote working directory: $SFTP_HOME" out
'

test_expect_success SFTP 'sftp_kill during an upload leaves a part of the file' '
	head -c 4194304 /dev/urandom >big &&
	rm -f "$SFTP_HOME/big.bin" &&
	rm -f client.rc || return 1
	{ echo "put big big.bin" | sftp_client -l 4000 >out 2>err
	    echo $? >client.rc; } &
	echo $! >client.pid &&
	wait_for test -s "$SFTP_HOME/big.bin" &&
	sftp_kill &&
	wait_for eval "! client_alive" &&
	test "$(cat client.rc)" != 0 &&
	size=$(stat -c %s "$SFTP_HOME/big.bin") &&
	test "$size" -gt 0 &&
	test "$size" -lt 4194304 &&
	sftp_start &&
	echo "put big big.bin" | sftp_client >out &&
	cmp big "$SFTP_HOME/big.bin"
'

test_expect_success SFTP 'sftp_stop closes the port; live sessions go on' '
	session_start &&
	old=$(sftp_pid) &&
	sftp_stop &&
	! sftp_running $old &&
	test -z "$(listening $SFTP_PORT)" &&
	! sftp_answers &&
	logged "^Received signal 15; terminating\.$" &&
	echo hello >hello &&
	echo "put hello after-stop.txt" >&3 &&
	wait_for test -s "$SFTP_HOME/after-stop.txt" &&
	test_cmp hello "$SFTP_HOME/after-stop.txt" &&
	client_alive &&
	sftp_start &&
	sftp_answers &&
	echo "get after-stop.txt got" | sftp_client >out &&
	test_cmp hello got &&
	exec 3>&- &&
	wait_for eval "! client_alive" &&
	test "$(cat client.rc)" = 0 &&
	wait_for eval "test \$(session_procs) = 0"
'

test_expect_success SFTP 'the teardown leaves no user, home, agent or process' '
	pids=$(sftp_procs) &&
	test -n "$pids" &&
	home=$SFTP_HOME &&
	sftp_teardown &&
	! getent passwd "$SFTP_USER" &&
	! getent group "$SFTP_USER" &&
	! test -e "$home" &&
	test -z "$(sftp_procs)" &&
	for pid in $pids $SFTP_AGENT_PID; do
		! sftp_running $pid || { echo "$pid still runs" >&2; return 1; }
	done &&
	test -z "$(listening $SFTP_PORT)" &&
	for f in /proc/[0-9]*/cmdline; do
		! tr "\0" " " <$f 2>/dev/null | grep -qF "$SFTP_DIR" ||
		    { echo "$f: still runs" >&2; return 1; }
	done
'

test_done
