# t/lib-sftp.sh: the SFTP peer for tests, sourced after t/lib.sh. It runs
# a private OpenSSH sshd (/usr/sbin/sshd) on 127.0.0.1 (and on ::1, same
# port, where the machine has it) for a throwaway local user, and removes
# the server, its sessions and the user when the script ends. It needs
# root; the system's own sshd, its configuration and its host keys are
# left alone.
#
#   sftp_setup [--no-ssh-rsa]
#                            create the user (useradd, a random password),
#                            the keys and the configuration, start sshd;
#                            sets the SFTP prereq. Call it once, outside any
#                            test. The server takes the user's keys and
#                            password and nothing else (AllowUsers,
#                            ForceCommand internal-sftp). It also takes RSA
#                            keys signing with SHA-1 (ssh-rsa), the only
#                            RSA signature libssh2 1.10 makes, which
#                            OpenSSH refuses by default since 8.8;
#                            --no-ssh-rsa leaves that default in place.
#   sftp_stop                SIGTERM to the listening sshd; waits at most
#                            10 s for it to exit. Live sessions go on, as
#                            when a real sshd restarts.
#   sftp_kill                SIGKILL to the listening sshd and to every
#                            process of this instance: live sessions are
#                            cut. Waits until none is left (at most 10 s).
#   sftp_start               start the same sshd again (same port, host
#                            key, user) and wait until it answers.
#   sftp_pid                 print the pid of the listening sshd; fails if
#                            none runs.
#   sftp_procs               print the pids of every live process of this
#                            instance (listener, sessions), one a line.
#   sftp_agent               start ssh-agent holding SFTP_KEY_ED25519;
#                            exports SSH_AUTH_SOCK and SFTP_AGENT_PID; sets
#                            the SFTP_AGENT prereq. Outside any test.
#   sftp_client [-i KEY | --password | --agent] [SFTP-OPTION...]
#                            OpenSSH's sftp as the user in batch mode, the
#                            commands read from stdin (the first failing
#                            one ends it, non-zero), at most 60 s. -i KEY
#                            (default SFTP_KEY_ED25519) logs in with KEY
#                            only; --password with SFTP_PASSWORD only;
#                            --agent with the agent's SFTP_KEY_ED25519
#                            only (none if the agent lacks it). A key's
#                            passphrase is read from SFTP_KEY_PASSPHRASE
#                            (through SSH_ASKPASS). SFTP-OPTIONs come first,
#                            so "-o Name=value" overrides the defaults
#                            (UserKnownHostsFile=$SFTP_KNOWN_HOSTS,
#                            StrictHostKeyChecking=yes).
#   sftp_cmd CMD...          sftp_client with each CMD a command line.
#   sftp_ls [DIR]            print the names of the files under DIR
#                            (default the home; relative to it when not
#                            absolute), relative to DIR, sorted, one a line;
#                            directories are walked, not printed. Over SFTP.
#   sftp_cat PATH            write the remote file PATH to stdout. Over SFTP.
#   sftp_log                 print sshd's log, each line ending in LF (sshd
#                            ends them in CR LF when it logs to a file).
#   sftp_teardown            what the script's end does: kill every process
#                            of this instance, the agent and any process
#                            naming a file in SFTP_DIR (clients), remove
#                            the user and its home. For tests of the
#                            teardown itself.
#
# The home is local: tests may look into $SFTP_HOME directly, as root. What
# they create there is root's until chowned to the user. It is
# $TRASH/sftp-home when the user can reach it, else a directory made under
# ${TMPDIR:-/tmp}; it holds .ssh/authorized_keys (mode 0600, the user's).
#
# Variables (exported): SFTP_HOST (127.0.0.1), SFTP_PORT, SFTP_USER (lst
# and 8 hex digits of a hash of $TRASH: one name per script), SFTP_PASSWORD,
# SFTP_HOME, SFTP_DIR (configuration, keys, known_hosts files: root's),
# SFTP_LOG (sshd's log, LogLevel VERBOSE, lines ending in CR LF: see
# sftp_log), SFTP_CONFIG (its sshd_config),
# SFTP_HOSTKEY_PUB (the host key as "ssh-ed25519 BASE64"), SFTP_HOSTKEY_FP
# (its "SHA256:..." fingerprint as ssh-keygen -l prints it),
# SFTP_KNOWN_HOSTS (a known_hosts file with "[127.0.0.1]:PORT KEY"),
# SFTP_OTHER_HOSTKEY_PUB and SFTP_OTHER_KNOWN_HOSTS (another ed25519 key,
# which the server does not have, and a known_hosts file naming it: a
# changed host key), and the user's keys, all in its authorized_keys, each
# with KEY.pub beside it: SFTP_KEY_ED25519, SFTP_KEY_RSA (RSA 3072 in PEM,
# "BEGIN RSA PRIVATE KEY"), SFTP_KEY_RSA_OPENSSH (RSA 3072, "BEGIN OPENSSH
# PRIVATE KEY"), SFTP_KEY_ECDSA (nistp256, OpenSSH format), SFTP_KEY_PASS
# (ed25519 encrypted with SFTP_KEY_PASSPHRASE: OpenSSH format, bcrypt KDF,
# aes256-ctr), SFTP_KEY_PASSPHRASE, SFTP_ASKPASS (an SSH_ASKPASS program
# printing SFTP_KEY_PASSPHRASE when asked for a passphrase, else
# SFTP_PASSWORD). libssh2 1.10 with OpenSSL reads every one of these keys.
# An agent or askpass of the caller's environment is not used.

unset SSH_AUTH_SOCK SSH_AGENT_PID SSH_ASKPASS SSH_ASKPASS_REQUIRE DISPLAY

SFTP_HOST=127.0.0.1
export SFTP_HOST

# sftp_free_port: prints a TCP port that was free on 127.0.0.1 just now.
sftp_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# sftp_have_ipv6: this machine can listen on ::1 (the server then listens
# there too, on the same port).
sftp_have_ipv6() {
	python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null
}

# sftp_running PID: the process exists and is not a zombie. (The stat file
# is read once: a zombie can be reaped at any moment.)
sftp_running() {
	_sftp_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	case ${_sftp_st##*\) } in
	Z*|'') return 1 ;;
	esac
	return 0
}

# sftp_retry CMD...: CMD, tried up to 10 times 0.3 s apart: useradd,
# chpasswd and userdel fail while another process holds /etc/passwd's lock.
sftp_retry() {
	_sftp_try=0
	while :; do
		"$@" && return 0
		_sftp_try=$((_sftp_try + 1))
		[ $_sftp_try -lt 10 ] || return 1
		sleep 0.3
	done
}

# sftp_searchable DIR: every directory from / to DIR can be searched by
# any user (so the test user can reach a home inside DIR).
sftp_searchable() {
	_sftp_d=$1
	while :; do
		[ -n "$(find "$_sftp_d" -maxdepth 0 -perm -0001 2>/dev/null)" ] ||
		    return 1
		case $_sftp_d in
		/) return 0 ;;
		esac
		_sftp_d=$(dirname "$_sftp_d")
	done
}

# sftp_ps MODE CONFIG USER UID [WORD]: MODE list prints the pids of the
# live processes of the sshd that runs with CONFIG: those whose command
# line holds "-f CONFIG", those named "sshd: USER ..." or "sshd: USER@...",
# those running as UID (never 0), those whose command line holds WORD if
# given, and the descendants of all these. MODE kill sends them SIGKILL
# until none is left, at most 10 s; it fails if some are left.
sftp_ps() {
	python3 - "$@" <<'EOF'
import os, signal, sys, time

mode, conf, user, uid = sys.argv[1:5]
word = sys.argv[5] if len(sys.argv) > 5 else ""


def table():
    procs = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
            with open("/proc/%s/cmdline" % d, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/status" % d) as f:
                ruid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
        except (OSError, IndexError):
            continue
        rest = st[st.rfind(")") + 2:].split()
        procs[int(d)] = (rest[0], int(rest[1]), ruid, " " + cmd.strip() + " ")
    return procs


def ours(procs):
    mark = set()
    for pid, (state, ppid, ruid, cmd) in procs.items():
        if pid == os.getpid():
            continue
        if ((" -f " + conf + " ") in cmd
                or cmd.startswith(" sshd: " + user + " ")
                or cmd.startswith(" sshd: " + user + "@")
                or (word and word in cmd)
                or (uid not in ("", "0") and ruid == uid)):
            mark.add(pid)
    grew = True
    while grew:
        grew = False
        for pid, (state, ppid, ruid, cmd) in procs.items():
            if pid not in mark and ppid in mark:
                mark.add(pid)
                grew = True
    return sorted(p for p in mark if procs[p][0] != "Z")


if mode == "list":
    for pid in ours(table()):
        print(pid)
    sys.exit(0)
for _ in range(200):
    pids = ours(table())
    if not pids:
        sys.exit(0)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.05)
sys.exit(1)
EOF
}

sftp_log() { tr -d '\r' <"$SFTP_LOG"; }

sftp_procs() {
	sftp_ps list "$SFTP_CONFIG" "$SFTP_USER" \
	    "$(cat "$SFTP_DIR/uid" 2>/dev/null)"
}

sftp_kill() {
	sftp_ps kill "$SFTP_CONFIG" "$SFTP_USER" \
	    "$(cat "$SFTP_DIR/uid" 2>/dev/null)"
}

sftp_pid() {
	_sftp_pid=$(cat "$SFTP_DIR/listener.pid" 2>/dev/null) &&
	sftp_running "$_sftp_pid" &&
	tr '\0' ' ' <"/proc/$_sftp_pid/cmdline" 2>/dev/null |
	    grep -qF -- "-f $SFTP_CONFIG" &&
	echo "$_sftp_pid"
}

# sftp_scan: ssh-keyscan's line for the server's ed25519 host key.
sftp_scan() {
	ssh-keyscan -T 3 -t ed25519 -p "$SFTP_PORT" 127.0.0.1 2>/dev/null
}

# sftp_answers: the server answers with the expected host key.
sftp_answers() {
	test "$(sftp_scan)" = "[127.0.0.1]:$SFTP_PORT $SFTP_HOSTKEY_PUB"
}

sftp_start() {
	! sftp_pid >/dev/null || return 0
	/usr/sbin/sshd -D -E "$SFTP_LOG" -f "$SFTP_CONFIG" \
	    </dev/null >>"$SFTP_LOG" 2>&1 &
	_sftp_pid=$!
	echo "$_sftp_pid" >"$SFTP_DIR/listener.pid"
	# At most 200 tries (10 s and more: a refused probe returns at once),
	# while sshd runs.
	_sftp_i=0
	while [ $_sftp_i -lt 200 ]; do
		sftp_running "$_sftp_pid" || return 1
		sftp_answers && return 0
		_sftp_i=$((_sftp_i + 1))
		sleep 0.05
	done
	return 1
}

sftp_stop() {
	_sftp_pid=$(sftp_pid) || return 0
	kill -TERM "$_sftp_pid" 2>/dev/null
	wait_for eval "! sftp_running $_sftp_pid"
}

# sftp_write_config PORT: the server's sshd_config, for PORT.
sftp_write_config() {
	if sftp_have_ipv6; then
		_sftp_listen="ListenAddress 127.0.0.1
ListenAddress ::1
AddressFamily any"
	else
		_sftp_listen="ListenAddress 127.0.0.1
AddressFamily inet"
	fi
	cat >"$SFTP_CONFIG" <<EOF
$_sftp_listen
Port $1
HostKey $SFTP_DIR/host_ed25519
PidFile $SFTP_DIR/sshd.pid
AuthorizedKeysFile $SFTP_HOME/.ssh/authorized_keys
AuthorizedPrincipalsFile none
AllowUsers $SFTP_USER
PermitRootLogin no
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitEmptyPasswords no
UsePAM yes
StrictModes yes
LoginGraceTime 30
MaxStartups 100
UseDNS no
PrintMotd no
PrintLastLog no
PermitTTY no
PermitUserRC no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
AllowStreamLocalForwarding no
PermitTunnel no
ForceCommand internal-sftp
Subsystem sftp internal-sftp
LogLevel VERBOSE
EOF
	[ -n "$_sftp_rsa" ] ||
	    echo "PubkeyAcceptedAlgorithms +ssh-rsa" >>"$SFTP_CONFIG"
}

# sftp_keygen FILE TYPE BITS FORMAT PASSPHRASE: a new key in FILE and
# FILE.pub; FORMAT PEM, or empty for OpenSSH's own.
sftp_keygen() {
	rm -f "$1" "$1.pub" &&
	ssh-keygen -q -t "$2" ${3:+-b "$3"} ${4:+-m "$4"} -N "$5" \
	    -C "ls-test $(basename "$1")" -f "$1" </dev/null >/dev/null
}

sftp_setup() {
	_sftp_rsa=
	while [ $# -gt 0 ]; do
		case $1 in
		--no-ssh-rsa) _sftp_rsa=no ;;
		*) echo "sftp_setup: unknown option '$1'" >&2; return 1 ;;
		esac
		shift
	done
	if [ "$(id -u)" != 0 ]; then
		peer_missing sshd "not root (useradd and sshd need it)"
		return 1
	fi
	if ! [ -x /usr/sbin/sshd ]; then
		peer_missing sshd "/usr/sbin/sshd not found (openssh-server)"
		return 1
	fi
	for _c in ssh-keygen ssh-keyscan sftp ssh-agent ssh-add useradd \
	    userdel chpasswd python3 timeout sha256sum; do
		if ! command -v "$_c" >/dev/null 2>&1; then
			peer_missing sshd "$_c not found"
			return 1
		fi
	done
	for _f in /etc/nologin /run/nologin; do
		if [ -e "$_f" ]; then
			peer_missing sshd "$_f exists: PAM refuses every login"
			return 1
		fi
	done
	SFTP_USER=lst$(printf '%s' "$TRASH" | sha256sum | cut -c1-8)
	SFTP_DIR="$TRASH/sftp"
	SFTP_CONFIG="$SFTP_DIR/sshd_config"
	SFTP_LOG="$TRASH/sshd.log"
	export SFTP_USER SFTP_DIR SFTP_CONFIG SFTP_LOG
	# What an earlier run of this script left behind, if it was killed:
	# its server, sessions, clients and agent, and its user.
	sftp_ps kill "$SFTP_CONFIG" "$SFTP_USER" \
	    "$(getent passwd "$SFTP_USER" | cut -d: -f3)" "$SFTP_DIR/"
	if getent passwd "$SFTP_USER" >/dev/null; then
		sftp_retry timeout 30 userdel -r -f "$SFTP_USER" >/dev/null 2>&1
	fi
	rm -rf "$SFTP_DIR" && mkdir -m 0700 "$SFTP_DIR" "$SFTP_DIR/skel" ||
	    return 1
	# The user must reach its home: in the trash directory if every
	# directory above can be searched, else in a directory of our own.
	_sftp_base=
	if sftp_searchable "$TRASH"; then
		SFTP_HOME="$TRASH/sftp-home"
	else
		_sftp_base=$(mktemp -d "${TMPDIR:-/tmp}/ls-sftp.XXXXXX") &&
		    chmod 0711 "$_sftp_base" || return 1
		SFTP_HOME="$_sftp_base/home"
	fi
	export SFTP_HOME
	test_atexit "sftp_teardown '$_sftp_base'"
	echo "$_sftp_base" >"$SFTP_DIR/base"
	if ! sftp_retry useradd -m -d "$SFTP_HOME" -k "$SFTP_DIR/skel" \
	    -s /bin/sh -c "ls test sftp peer" "$SFTP_USER" \
	    2>"$TRASH/.peer-err"; then
		peer_missing sshd "useradd: $(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	id -u "$SFTP_USER" >"$SFTP_DIR/uid" || return 1
	SFTP_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
	SFTP_KEY_PASSPHRASE=$(head -c 18 /dev/urandom | base64 | tr -d '+/=')
	export SFTP_PASSWORD SFTP_KEY_PASSPHRASE
	if ! printf '%s:%s\n' "$SFTP_USER" "$SFTP_PASSWORD" |
	    sftp_retry chpasswd 2>"$TRASH/.peer-err"; then
		peer_missing sshd "chpasswd: $(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	SFTP_KEY_ED25519="$SFTP_DIR/id_ed25519"
	SFTP_KEY_RSA="$SFTP_DIR/id_rsa"
	SFTP_KEY_RSA_OPENSSH="$SFTP_DIR/id_rsa_openssh"
	SFTP_KEY_ECDSA="$SFTP_DIR/id_ecdsa"
	SFTP_KEY_PASS="$SFTP_DIR/id_pass"
	if ! { sftp_keygen "$SFTP_DIR/host_ed25519" ed25519 "" "" "" &&
	    sftp_keygen "$SFTP_DIR/other_ed25519" ed25519 "" "" "" &&
	    sftp_keygen "$SFTP_KEY_ED25519" ed25519 "" "" "" &&
	    sftp_keygen "$SFTP_KEY_RSA" rsa 3072 PEM "" &&
	    sftp_keygen "$SFTP_KEY_RSA_OPENSSH" rsa 3072 "" "" &&
	    sftp_keygen "$SFTP_KEY_ECDSA" ecdsa 256 "" "" &&
	    sftp_keygen "$SFTP_KEY_PASS" ed25519 "" "" \
	        "$SFTP_KEY_PASSPHRASE"; } 2>"$TRASH/.peer-err"; then
		peer_missing sshd "ssh-keygen: $(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	export SFTP_KEY_ED25519 SFTP_KEY_RSA SFTP_KEY_RSA_OPENSSH \
	    SFTP_KEY_ECDSA SFTP_KEY_PASS
	# sshd reads authorized_keys as the user, and with StrictModes wants
	# it and the directories up to the home owned by the user (or root)
	# and writable by no one else.
	chmod 0755 "$SFTP_HOME" &&
	mkdir -m 0700 "$SFTP_HOME/.ssh" &&
	cat "$SFTP_KEY_ED25519.pub" "$SFTP_KEY_RSA.pub" \
	    "$SFTP_KEY_RSA_OPENSSH.pub" "$SFTP_KEY_ECDSA.pub" \
	    "$SFTP_KEY_PASS.pub" >"$SFTP_HOME/.ssh/authorized_keys" &&
	chmod 0600 "$SFTP_HOME/.ssh/authorized_keys" &&
	chown -R "$SFTP_USER:" "$SFTP_HOME/.ssh" || return 1
	SFTP_HOSTKEY_PUB=$(cut -d' ' -f1,2 "$SFTP_DIR/host_ed25519.pub")
	SFTP_HOSTKEY_FP=$(ssh-keygen -l -f "$SFTP_DIR/host_ed25519.pub" |
	    cut -d' ' -f2)
	SFTP_OTHER_HOSTKEY_PUB=$(cut -d' ' -f1,2 "$SFTP_DIR/other_ed25519.pub")
	SFTP_KNOWN_HOSTS="$SFTP_DIR/known_hosts"
	SFTP_OTHER_KNOWN_HOSTS="$SFTP_DIR/known_hosts.other"
	SFTP_ASKPASS="$SFTP_DIR/askpass"
	export SFTP_HOSTKEY_PUB SFTP_HOSTKEY_FP SFTP_OTHER_HOSTKEY_PUB \
	    SFTP_KNOWN_HOSTS SFTP_OTHER_KNOWN_HOSTS SFTP_ASKPASS
	cat >"$SFTP_ASKPASS" <<-\EOF
	#!/bin/sh
	case $1 in
	*passphrase*) printf '%s\n' "$SFTP_KEY_PASSPHRASE" ;;
	*) printf '%s\n' "$SFTP_PASSWORD" ;;
	esac
	EOF
	chmod 0700 "$SFTP_ASKPASS" || return 1
	# sshd's privilege separation needs its empty directory. Other
	# servers use it too: it stays.
	[ -d /run/sshd ] || mkdir -m 0755 /run/sshd || return 1
	# A port picked free can be taken before sshd binds it: try again.
	_sftp_try=0
	while [ $_sftp_try -lt 5 ]; do
		_sftp_try=$((_sftp_try + 1))
		SFTP_PORT=$(sftp_free_port) || break
		export SFTP_PORT
		sftp_write_config "$SFTP_PORT" || return 1
		if ! /usr/sbin/sshd -t -f "$SFTP_CONFIG" 2>"$TRASH/.peer-err"
		then
			peer_missing sshd "sshd -t: $(tail -n 1 "$TRASH/.peer-err")"
			return 1
		fi
		echo "[127.0.0.1]:$SFTP_PORT $SFTP_HOSTKEY_PUB" >"$SFTP_KNOWN_HOSTS"
		echo "[127.0.0.1]:$SFTP_PORT $SFTP_OTHER_HOSTKEY_PUB" \
		    >"$SFTP_OTHER_KNOWN_HOSTS"
		if sftp_start; then
			test_set_prereq SFTP
			return 0
		fi
		sftp_kill
	done
	peer_missing sshd "it did not start: $(tail -n 1 "$SFTP_LOG" 2>/dev/null)"
	return 1
}

# sftp_agent_kill PID SOCKET: SIGKILL to PID if it is still the agent
# listening on SOCKET.
sftp_agent_kill() {
	if tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null |
	    grep -qF -- "-a $2"; then
		kill -9 "$1" 2>/dev/null
	fi
	return 0
}

sftp_teardown() {
	_sftp_base=${1-$(cat "$SFTP_DIR/base" 2>/dev/null)}
	[ -z "${SFTP_AGENT_PID:-}" ] ||
	    sftp_agent_kill "$SFTP_AGENT_PID" "$SSH_AUTH_SOCK"
	sftp_ps kill "$SFTP_CONFIG" "$SFTP_USER" \
	    "$(cat "$SFTP_DIR/uid" 2>/dev/null)" "$SFTP_DIR/"
	if getent passwd "$SFTP_USER" >/dev/null; then
		sftp_retry timeout 30 userdel -r -f "$SFTP_USER" >/dev/null 2>&1
	fi
	[ -z "$_sftp_base" ] || rm -rf "$_sftp_base"
	! getent passwd "$SFTP_USER" >/dev/null
}

sftp_agent() {
	test_have_prereq SFTP || return 1
	# A socket's path has at most 107 bytes.
	SSH_AUTH_SOCK="$SFTP_DIR/agent.sock"
	if [ ${#SSH_AUTH_SOCK} -gt 100 ]; then
		_sftp_base=$(cat "$SFTP_DIR/base")
		if [ -z "$_sftp_base" ]; then
			_sftp_base=$(mktemp -d "${TMPDIR:-/tmp}/ls-sftp.XXXXXX") ||
			    return 1
			echo "$_sftp_base" >"$SFTP_DIR/base"
			test_atexit "rm -rf '$_sftp_base'"
		fi
		SSH_AUTH_SOCK="$_sftp_base/agent.sock"
	fi
	rm -f "$SSH_AUTH_SOCK"
	ssh-agent -D -a "$SSH_AUTH_SOCK" </dev/null >"$SFTP_DIR/agent.out" \
	    2>&1 &
	SFTP_AGENT_PID=$!
	export SSH_AUTH_SOCK SFTP_AGENT_PID
	test_atexit "sftp_agent_kill $SFTP_AGENT_PID '$SSH_AUTH_SOCK'"
	if ! wait_for test -S "$SSH_AUTH_SOCK" ||
	    ! timeout 10 ssh-add "$SFTP_KEY_ED25519" </dev/null \
	    >/dev/null 2>"$TRASH/.peer-err"; then
		peer_missing ssh-agent "$(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	test_set_prereq SFTP_AGENT
}

sftp_client() {
	_sftp_mode=key
	_sftp_key=$SFTP_KEY_ED25519
	case ${1-} in
	-i) _sftp_key=$2; shift 2 ;;
	--password) _sftp_mode=password; shift ;;
	--agent) _sftp_mode=agent; shift ;;
	esac
	# The agent's key is named by its public half: ssh then signs with
	# the agent or not at all.
	case $_sftp_mode in
	key)
		set -- "$@" -o IdentityAgent=none -o IdentitiesOnly=yes \
		    -o PreferredAuthentications=publickey -i "$_sftp_key" ;;
	password)
		set -- "$@" -o IdentityAgent=none -o PubkeyAuthentication=no \
		    -o PreferredAuthentications=password \
		    -o NumberOfPasswordPrompts=1 ;;
	agent)
		set -- "$@" -o IdentitiesOnly=yes \
		    -o PreferredAuthentications=publickey \
		    -i "$SFTP_KEY_ED25519.pub" ;;
	esac
	SSH_ASKPASS=$SFTP_ASKPASS SSH_ASKPASS_REQUIRE=force \
	timeout 60 sftp -F none -o BatchMode=no "$@" \
	    -o UserKnownHostsFile="$SFTP_KNOWN_HOSTS" \
	    -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes \
	    -o UpdateHostKeys=no -o ConnectTimeout=10 \
	    -o ServerAliveInterval=5 -o ServerAliveCountMax=3 \
	    -b - -P "$SFTP_PORT" "$SFTP_USER@127.0.0.1"
}

sftp_cmd() { printf '%s\n' "$@" | sftp_client; }

# sftp_quote PATH: PATH in double quotes, as sftp's command lines take it.
sftp_quote() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

sftp_cat() {
	_sftp_tmp="$TRASH/.sftp-cat.$$"
	rm -f "$_sftp_tmp"
	printf 'get %s %s\n' "$(sftp_quote "$1")" "$(sftp_quote "$_sftp_tmp")" |
	    sftp_client >/dev/null &&
	cat "$_sftp_tmp" &&
	rm -f "$_sftp_tmp"
}

# sftp_ls walks DIR a level at a time: one session lists every directory
# of a level with "ls -la", whose lines are "MODE NLINK USER GROUP SIZE MON
# DAY TIME|YEAR PATH", PATH being the directory as given, a slash and the
# name (the name alone for the home).
sftp_ls() {
	_sftp_root=${1:-.}
	while :; do
		case $_sftp_root in
		?*/) _sftp_root=${_sftp_root%/} ;;
		*) break ;;
		esac
	done
	_sftp_w="$TRASH/.sftp-ls.$$"
	printf '\n' >"$_sftp_w.todo"
	: >"$_sftp_w.files"
	_sftp_depth=0
	while [ -s "$_sftp_w.todo" ] && [ $_sftp_depth -lt 64 ]; do
		_sftp_depth=$((_sftp_depth + 1))
		while IFS= read -r _sftp_rel; do
			if [ -z "$_sftp_rel" ] && [ "$_sftp_root" = . ]; then
				echo "ls -la"
			elif [ -z "$_sftp_rel" ]; then
				echo "ls -la $(sftp_quote "$_sftp_root")"
			elif [ "$_sftp_root" = . ]; then
				echo "ls -la $(sftp_quote "$_sftp_rel")"
			else
				echo "ls -la $(sftp_quote "$_sftp_root/$_sftp_rel")"
			fi
		done <"$_sftp_w.todo" >"$_sftp_w.batch"
		sftp_client <"$_sftp_w.batch" >"$_sftp_w.out" || return 1
		awk -v root="$_sftp_root" '
		    FNR == NR { todo[++n] = $0; next }
		    /^sftp> / { rel = todo[++i]
			if (root == ".") dir = rel
			else if (rel == "") dir = root
			else dir = root "/" rel
			next }
		    { name = $0
			sub(/^[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ +[^ ]+ /, "", name)
			if (dir != "") {
				if (substr(name, 1, length(dir) + 1) != dir "/") next
				name = substr(name, length(dir) + 2)
			}
			if (name == "." || name == ".." || name == "") next
			if (rel != "") name = rel "/" name
			print (substr($1, 1, 1) == "d" ? "d " : "f ") name }
		' "$_sftp_w.todo" "$_sftp_w.out" >"$_sftp_w.level" || return 1
		sed -n 's/^f //p' "$_sftp_w.level" >>"$_sftp_w.files"
		sed -n 's/^d //p' "$_sftp_w.level" >"$_sftp_w.todo"
	done
	sort "$_sftp_w.files"
	rm -f "$_sftp_w.todo" "$_sftp_w.files" "$_sftp_w.batch" \
	    "$_sftp_w.out" "$_sftp_w.level"
}
