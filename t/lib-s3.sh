# t/lib-s3.sh: the S3 peer for tests, sourced after t/lib.sh. It starts
# s3rver (t/peers/s3rver) on 127.0.0.1, and optionally t/bin/s3-proxy in
# front of it, and stops both when the script ends.
#
#   s3_setup [BUCKET...]     start s3rver with BUCKET... (default ls-test);
#                            sets the S3 prereq. Call it outside any test.
#   s3_proxy_start [--verify] [--faults FILE]
#                            start s3-proxy; S3_ENDPOINT then points at it;
#                            sets the S3PROXY prereq. Outside any test.
#   s3_faults [RULE...]      replace the rules in $S3_FAULTS, one a line
#                            (none: no faults), atomically.
#   s3_proxy_stop, s3_stop   stop the proxy, or s3rver, before the end.
#   s3_ls BUCKET [PREFIX]    print the keys under PREFIX, one a line.
#   s3_prefixes BUCKET [PREFIX]
#                            print the common prefixes under PREFIX with
#                            delimiter /, one a line.
#   s3_cat BUCKET KEY        write the object to stdout.
#   s3_put BUCKET KEY FILE   store FILE as the object.
#   s3_rm BUCKET KEY         delete the object.
#   s3_client ENDPOINT OP ARG...
#                            the same operations (ls, prefixes, cat, put, rm)
#                            against ENDPOINT; the ones above go to s3rver
#                            directly, past the proxy and its faults.
#   s3_curl CURL-ARG...      curl signing with SigV4 (curl's own signer) as
#                            S3RVER, with x-amz-content-sha256:
#                            UNSIGNED-PAYLOAD. curl 7.88 signs the query as
#                            written: write it sorted and percent-encoded.
#
# Variables (exported): S3RVER (the command), S3RVER_DIR, S3RVER_PORT,
# S3RVER_PID, S3RVER_ENDPOINT (http://127.0.0.1:PORT, s3rver itself),
# S3_ENDPOINT (the proxy once started, else s3rver), S3_BUCKET (the first
# bucket), S3_REGION, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY; after
# s3_proxy_start also S3_PROXY_PORT, S3_PROXY_PID, S3_PROXY_LOG (one line
# per request, see t/bin/s3-proxy) and S3_FAULTS (the rules file, if any).
# Logs: $TRASH/s3rver.log, $TRASH/s3-proxy.err.

S3_BUCKET=ls-test
S3_REGION=us-east-1
S3_ACCESS_KEY_ID=S3RVER
S3_SECRET_ACCESS_KEY=S3RVER
export S3_BUCKET S3_REGION S3_ACCESS_KEY_ID S3_SECRET_ACCESS_KEY

# s3_free_port: prints a TCP port that was free on 127.0.0.1 just now.
s3_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# s3_kill PID WORD: SIGKILL to PID if it is still a process whose command
# line holds WORD (so a recycled pid is left alone).
s3_kill() {
	if tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q -- "$2"; then
		kill -9 "$1" 2>/dev/null
	fi
	return 0
}

# s3_answers URL: some HTTP server answers at URL.
s3_answers() { curl -s -o /dev/null --max-time 2 "$1"; }

# s3_running PID: the process exists and is not a zombie. (The stat file
# is read once: a zombie can be reaped at any moment.)
s3_running() {
	_s3_st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	case ${_s3_st##*\) } in
	Z*|'') return 1 ;;
	esac
	return 0
}

# s3_wait_up PID CMD...: retry CMD every 0.05 s, at most 600 times (30 s
# and more on a loaded machine), while PID runs. Fails as soon as PID is
# gone.
s3_wait_up() {
	_s3_pid=$1; shift
	_s3_i=0
	while [ $_s3_i -lt 600 ]; do
		s3_running "$_s3_pid" || return 1
		"$@" >/dev/null 2>&1 && return 0
		_s3_i=$((_s3_i + 1))
		sleep 0.05
	done
	return 1
}

s3_setup() {
	[ $# -gt 0 ] || set -- ls-test
	for _b; do
		case $_b in
		*[!a-z0-9.-]*|'') echo "s3_setup: bad bucket name '$_b'" >&2; return 1 ;;
		esac
	done
	for _c in curl python3; do
		if ! command -v $_c >/dev/null 2>&1; then
			peer_missing s3rver "$_c not found"
			return 1
		fi
	done
	if ! python3 -c 'import botocore.auth' 2>/dev/null; then
		peer_missing s3rver "python3 cannot import botocore (python3-botocore)"
		return 1
	fi
	if ! S3RVER=$("$TEST_DIRECTORY/peers/s3rver" 2>"$TRASH/.peer-err"); then
		peer_missing s3rver "$(tail -n 1 "$TRASH/.peer-err")"
		return 1
	fi
	S3_BUCKET=$1
	S3RVER_DIR="$TRASH/s3rver"
	mkdir -p "$S3RVER_DIR" || return 1
	_s3_args=
	for _b; do _s3_args="$_s3_args --configure-bucket $_b"; done
	# A port picked free can be taken before s3rver binds it: try again.
	_s3_try=0
	while [ $_s3_try -lt 5 ]; do
		_s3_try=$((_s3_try + 1))
		S3RVER_PORT=$(s3_free_port) || break
		S3RVER_ENDPOINT="http://127.0.0.1:$S3RVER_PORT"
		# shellcheck disable=SC2086
		NODE_OPTIONS=--openssl-legacy-provider "$S3RVER" \
		    -d "$S3RVER_DIR" -a 127.0.0.1 -p "$S3RVER_PORT" $_s3_args \
		    >>"$TRASH/s3rver.log" 2>&1 &
		S3RVER_PID=$!
		test_atexit "s3_kill $S3RVER_PID s3rver"
		if s3_wait_up "$S3RVER_PID" s3_answers "$S3RVER_ENDPOINT"; then
			S3_ENDPOINT=$S3RVER_ENDPOINT
			export S3RVER S3RVER_DIR S3RVER_PORT S3RVER_PID \
			    S3RVER_ENDPOINT S3_ENDPOINT S3_BUCKET
			test_set_prereq S3
			return 0
		fi
		s3_kill $S3RVER_PID s3rver
	done
	peer_missing s3rver "it did not start: $(tail -n 1 "$TRASH/s3rver.log")"
	return 1
}

# s3_stop: SIGTERM to s3rver; waits at most 10 s for it to exit.
s3_stop() {
	kill -TERM "$S3RVER_PID" 2>/dev/null
	wait_for eval "! s3_running $S3RVER_PID"
}

s3_proxy_start() {
	_s3_verify=''
	_s3_faults=''
	while [ $# -gt 0 ]; do
		case $1 in
		--verify) _s3_verify=1 ;;
		--faults) _s3_faults=$2; shift ;;
		*) echo "s3_proxy_start: unknown option '$1'" >&2; return 1 ;;
		esac
		shift
	done
	test_have_prereq S3 || return 1
	set -- --upstream "$S3RVER_ENDPOINT" --port-file "$TRASH/s3-proxy.port"
	S3_PROXY_LOG="$TRASH/s3-proxy.log"
	set -- "$@" --log "$S3_PROXY_LOG"
	[ -z "$_s3_verify" ] ||
	    set -- "$@" --verify "$S3_SECRET_ACCESS_KEY" --region "$S3_REGION"
	if [ -n "$_s3_faults" ]; then
		case $_s3_faults in
		/*) S3_FAULTS=$_s3_faults ;;
		*) S3_FAULTS="$PWD/$_s3_faults" ;;
		esac
		export S3_FAULTS
		set -- "$@" --faults "$S3_FAULTS"
	fi
	rm -f "$TRASH/s3-proxy.port"
	"$TEST_DIRECTORY/bin/s3-proxy" "$@" 2>>"$TRASH/s3-proxy.err" &
	S3_PROXY_PID=$!
	test_atexit "s3_kill $S3_PROXY_PID s3-proxy"
	if ! s3_wait_up "$S3_PROXY_PID" test -s "$TRASH/s3-proxy.port"; then
		peer_missing s3-proxy "it did not start: $(tail -n 1 "$TRASH/s3-proxy.err")"
		return 1
	fi
	S3_PROXY_PORT=$(cat "$TRASH/s3-proxy.port")
	S3_ENDPOINT="http://127.0.0.1:$S3_PROXY_PORT"
	export S3_PROXY_PID S3_PROXY_PORT S3_PROXY_LOG S3_ENDPOINT
	test_set_prereq S3PROXY
}

# s3_proxy_stop: stops the proxy; S3_ENDPOINT is s3rver again.
s3_proxy_stop() {
	s3_kill "$S3_PROXY_PID" s3-proxy
	wait_for eval "! s3_running $S3_PROXY_PID" || return 1
	S3_ENDPOINT=$S3RVER_ENDPOINT
	export S3_ENDPOINT
}

s3_faults() {
	: "${S3_FAULTS:?s3_faults: the proxy has no --faults file}"
	if [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$S3_FAULTS.tmp"
	else
		: >"$S3_FAULTS.tmp"
	fi &&
	mv -f "$S3_FAULTS.tmp" "$S3_FAULTS"
}

s3_curl() {
	curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	    --user "$S3_ACCESS_KEY_ID:$S3_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

s3_ls() { s3_client "$S3RVER_ENDPOINT" ls "$1" "${2-}"; }
s3_prefixes() { s3_client "$S3RVER_ENDPOINT" prefixes "$1" "${2-}"; }
s3_cat() { s3_client "$S3RVER_ENDPOINT" cat "$1" "$2"; }
s3_put() { s3_client "$S3RVER_ENDPOINT" put "$1" "$2" "$3"; }
s3_rm() { s3_client "$S3RVER_ENDPOINT" rm "$1" "$2"; }

# s3_client ENDPOINT OP ARG...: a small S3 client signing with botocore.
# Exits 0, or 1 with "s3_client: STATUS CODE" on stderr for an error answer.
# Listings ask for S3_LIST_MAX_KEYS keys a page when that is set.
s3_client() {
	python3 - "$@" <<'EOF'
import http.client, os, sys
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlsplit
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

endpoint, op, args = sys.argv[1], sys.argv[2], sys.argv[3:]
ep = urlsplit(endpoint)
if ep.hostname != "127.0.0.1":
    sys.exit("s3_client: endpoint must be on 127.0.0.1")
creds = Credentials(os.environ["S3_ACCESS_KEY_ID"],
                    os.environ["S3_SECRET_ACCESS_KEY"])
region = os.environ["S3_REGION"]


def enc(s):
    return quote(s, safe="-_.~")


def call(method, bucket, key="", query=(), body=b""):
    path = "/" + quote(bucket + ("/" + key if key else ""), safe="/~")
    qs = "&".join("%s=%s" % (enc(k), enc(v)) for k, v in sorted(query))
    url = "http://%s%s%s" % (ep.netloc, path, "?" + qs if qs else "")
    req = AWSRequest(method=method, url=url, data=body)
    S3SigV4Auth(creds, "s3", region).add_auth(req)
    c = http.client.HTTPConnection(ep.hostname, ep.port, timeout=60)
    c.request(method, path + ("?" + qs if qs else ""), body=body or None,
              headers=dict(req.headers.items()))
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        code = "-"
        try:
            code = ET.fromstring(data).findtext("Code") or "-"
        except ET.ParseError:
            pass
        sys.exit("s3_client: %d %s" % (r.status, code))
    return data


def children(elem, name):
    return [e for e in elem.iter() if e.tag.rsplit("}", 1)[-1] == name]


def text(elem, name):
    for e in elem:
        if e.tag.rsplit("}", 1)[-1] == name:
            return e.text or ""
    return None


def listing(bucket, prefix, delim):
    token = None
    for _ in range(10000):
        q = [("list-type", "2"), ("prefix", prefix)]
        if delim:
            q.append(("delimiter", delim))
        if os.environ.get("S3_LIST_MAX_KEYS"):
            q.append(("max-keys", os.environ["S3_LIST_MAX_KEYS"]))
        if token:
            q.append(("continuation-token", token))
        root = ET.fromstring(call("GET", bucket, query=q))
        for e in children(root, "Contents"):
            yield "key", text(e, "Key")
        for e in children(root, "CommonPrefixes"):
            yield "prefix", text(e, "Prefix")
        if text(root, "IsTruncated") != "true":
            return
        token = text(root, "NextContinuationToken")
    sys.exit("s3_client: listing does not end")


out = sys.stdout.buffer
if op in ("ls", "prefixes") and len(args) in (1, 2):
    want = "key" if op == "ls" else "prefix"
    for kind, name in listing(args[0], args[1] if len(args) > 1 else "",
                              "/" if op == "prefixes" else None):
        if kind == want:
            out.write(name.encode() + b"\n")
elif op == "cat" and len(args) == 2:
    out.write(call("GET", args[0], args[1]))
elif op == "put" and len(args) == 3:
    with open(args[2], "rb") as f:
        call("PUT", args[0], args[1], body=f.read())
elif op == "rm" and len(args) == 2:
    call("DELETE", args[0], args[1])
else:
    sys.exit("usage: s3_client ENDPOINT ls|prefixes|cat|put|rm ARG...")
EOF
}
