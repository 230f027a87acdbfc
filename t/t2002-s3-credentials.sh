#!/bin/sh
test_description='AWS credentials: each source of the chain, its order, refresh'
. "$(dirname "$0")/lib.sh"

# Only 127.0.0.1 is ever contacted: lib.sh disables EC2 metadata and
# points it at a dead local port; the servers below are local. These
# would change where a request goes or what it carries:
unset AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS AWS_ROLE_SESSION_NAME \
	AWS_CONTAINER_AUTHORIZATION_TOKEN AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \
	AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE

E='awscred: fatal: unable to get AWS credentials:'

# cred ARGS...: runs the driver with stdout in out and stderr in err; all
# of its output is also kept in all.log, which must never hold a secret.
cred() {
	"$TOP/t/unit/awscred" "$@" >out 2>err
	_rc=$?
	cat out err >>"$TRASH/all.log"
	return $_rc
}

# sha8 SECRET: what the driver prints for SECRET.
sha8() { printf '%s' "$1" | sha256sum | cut -c1-8; }

# server NAME ARGS...: starts aws-cred-server with ARGS, port in NAME.port,
# log in NAME.log; stopped when the script ends.
server() {
	_n=$1
	shift
	rm -f "$_n.port" "$_n.log"
	aws-cred-server --port-file "$_n.port" --log "$_n.log" \
	    --max-seconds 120 "$@" >"$_n.out" 2>&1 &
	echo $! >"$_n.pid"
	test_atexit "kill $!"
	wait_for test -s "$_n.port"
}

port() { cat "$1.port"; }

# issued NAME: how many credentials server NAME handed out.
issued() { grep -c '^issue ' "$1.log"; }

nothing="no credentials found; tried config, LITESTREAM_*, AWS_*, shared file $HOME/.aws/credentials (absent), web identity (AWS_ROLE_ARN unset), ECS (unset), EC2 IMDS (disabled)"

test_expect_success 'nothing configured: 100 at once, naming each source' '
	test_expect_code 100 timeout 5 "$TOP/t/unit/awscred" >out 2>err &&
	echo "$E $nothing" >expect &&
	test_cmp expect err &&
	test_must_fail test -s out
'

# Sources 1-3: keys given and the environment.

test_expect_success 'config keys' '
	printf "AKIDCONFIG\nsecret-config\n" >keys &&
	cred -k keys &&
	echo "AKIDCONFIG token=no expires=never secret=$(sha8 secret-config) source=config" >expect &&
	test_cmp expect out &&
	test_must_fail test -s err
'

test_expect_success 'config access key without a secret: 100' '
	printf "AKIDCONFIG\n" >half &&
	test_expect_code 100 cred -k half &&
	echo "$E access-key-id is set but secret-access-key is not" >expect &&
	test_cmp expect err
'

test_expect_success 'LITESTREAM_* environment' '
	export LITESTREAM_ACCESS_KEY_ID=AKIDLS LITESTREAM_SECRET_ACCESS_KEY=secret-ls &&
	cred &&
	echo "AKIDLS token=no expires=never secret=$(sha8 secret-ls) source=environment (LITESTREAM_*)" >expect &&
	test_cmp expect out
'

test_expect_success 'LITESTREAM_ACCESS_KEY_ID alone: 100' '
	export LITESTREAM_ACCESS_KEY_ID=AKIDLS &&
	test_expect_code 100 cred &&
	echo "$E LITESTREAM_ACCESS_KEY_ID is set but LITESTREAM_SECRET_ACCESS_KEY is not" >expect &&
	test_cmp expect err
'

test_expect_success 'AWS_* environment without a session token' '
	export AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env &&
	cred &&
	echo "AKIDENV token=no expires=never secret=$(sha8 secret-env) source=environment (AWS_*)" >expect &&
	test_cmp expect out
'

test_expect_success 'AWS_* environment with a session token' '
	export AWS_ACCESS_KEY_ID=ASIAENV AWS_SECRET_ACCESS_KEY=secret-env \
	    AWS_SESSION_TOKEN=token-env &&
	cred &&
	echo "ASIAENV token=yes expires=never secret=$(sha8 secret-env) source=environment (AWS_*)" >expect &&
	test_cmp expect out
'

test_expect_success 'AWS_SECRET_ACCESS_KEY alone: 100' '
	export AWS_SECRET_ACCESS_KEY=secret-env &&
	test_expect_code 100 cred &&
	echo "$E AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" >expect &&
	test_cmp expect err
'

# Source 4: the shared credentials file.

test_expect_success 'setup: shared credentials file' '
	cat >shared <<-\EOF
	# a comment
	; another comment
	[other]
	aws_access_key_id = AKIDOTHER
	aws_secret_access_key = secret-other
	aws_session_token = token-other==

	  [ default ]
	AWS_Access_Key_ID=AKIDFILE
	  aws_secret_access_key	=	secret-file   
	# aws_access_key_id = AKIDCOMMENTED
	region = eu-west-1

	[nokeys]
	role_arn = arn:aws:iam::123456789012:role/x
	EOF
'

test_expect_success 'shared file: default profile' '
	export AWS_SHARED_CREDENTIALS_FILE=shared &&
	cred &&
	echo "AKIDFILE token=no expires=never secret=$(sha8 secret-file) source=shared credentials file shared profile default" >expect &&
	test_cmp expect out
'

test_expect_success 'shared file: AWS_PROFILE' '
	export AWS_SHARED_CREDENTIALS_FILE=shared AWS_PROFILE=other &&
	cred &&
	echo "AKIDOTHER token=yes expires=never secret=$(sha8 secret-other) source=shared credentials file shared profile other" >expect &&
	test_cmp expect out
'

# home_file CMD...: runs CMD with the shared file in ~/.aws/credentials,
# removed afterwards.
home_file() {
	mkdir -p "$HOME/.aws" && cp shared "$HOME/.aws/credentials" &&
	"$@"
	_rc=$?
	rm -f "$HOME/.aws/credentials"
	return $_rc
}

test_expect_success 'shared file: ~/.aws/credentials when AWS_SHARED_CREDENTIALS_FILE is unset' '
	unset AWS_SHARED_CREDENTIALS_FILE &&
	home_file cred &&
	echo "AKIDFILE token=no expires=never secret=$(sha8 secret-file) source=shared credentials file $HOME/.aws/credentials profile default" >expect &&
	test_cmp expect out
'

test_expect_success 'shared file: a long path is cut on the left to fit' '
	long=$PWD/$(printf "%0200d" 0)/$(printf "%0100d" 1) &&
	mkdir -p "$long" && cp shared "$long/credentials" &&
	export AWS_SHARED_CREDENTIALS_FILE="$long/credentials" AWS_PROFILE=other &&
	cred &&
	grep " source=shared credentials file \.\.\.[0-9/]*/credentials profile other$" out &&
	test $(sed "s/.* source=//" out | wc -c) -le 256
'

test_expect_success 'shared file: ~/ in AWS_SHARED_CREDENTIALS_FILE' '
	export AWS_SHARED_CREDENTIALS_FILE="~/.aws/credentials" &&
	home_file cred &&
	grep "^AKIDFILE token=no " out
'

test_expect_success 'shared file: a missing AWS_PROFILE is an error (100)' '
	export AWS_SHARED_CREDENTIALS_FILE=shared AWS_PROFILE=nosuch &&
	test_expect_code 100 cred &&
	echo "$E shared has no profile \"nosuch\" (AWS_PROFILE)" >expect &&
	test_cmp expect err
'

test_expect_success 'shared file: AWS_PROFILE naming a profile without keys (100)' '
	export AWS_SHARED_CREDENTIALS_FILE=shared AWS_PROFILE=nokeys &&
	test_expect_code 100 cred &&
	echo "$E shared: profile \"nokeys\" (AWS_PROFILE) has no aws_access_key_id" >expect &&
	test_cmp expect err
'

test_expect_success 'shared file: AWS_PROFILE without a file does not apply' '
	export AWS_PROFILE=other &&
	test_expect_code 100 cred &&
	echo "$E $nothing" >expect &&
	test_cmp expect err
'

test_expect_success 'shared file without the default profile does not apply' '
	printf "[other]\naws_access_key_id = A\naws_secret_access_key = secret-x\n" >nodefault &&
	export AWS_SHARED_CREDENTIALS_FILE="$TRASH/nodefault" &&
	test_expect_code 100 cred &&
	echo "$E no credentials found; tried config, LITESTREAM_*, AWS_*, shared file $TRASH/nodefault (no profile default), web identity (AWS_ROLE_ARN unset), ECS (unset), EC2 IMDS (disabled)" >expect &&
	test_cmp expect err
'

test_expect_success 'shared file: a key without its secret (100)' '
	printf "[default]\naws_access_key_id = A\n" >halfkey &&
	export AWS_SHARED_CREDENTIALS_FILE=halfkey &&
	test_expect_code 100 cred &&
	echo "$E halfkey: profile \"default\" lacks aws_secret_access_key" >expect &&
	test_cmp expect err
'

test_expect_success 'shared file: a malformed line (100, by number only)' '
	printf "[default]\naws_access_key_id = A\nsecret-in-a-bad-line\n" >bad &&
	export AWS_SHARED_CREDENTIALS_FILE=bad &&
	test_expect_code 100 cred &&
	echo "$E bad:3: not a profile name, key = value, or comment" >expect &&
	test_cmp expect err
'

# Precedence.

test_expect_success 'config beats LITESTREAM_* and AWS_*' '
	export LITESTREAM_ACCESS_KEY_ID=AKIDLS LITESTREAM_SECRET_ACCESS_KEY=secret-ls \
	    AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env &&
	cred -k keys &&
	grep "^AKIDCONFIG .* source=config$" out
'

test_expect_success 'LITESTREAM_* beats AWS_* and the shared file' '
	export AWS_SHARED_CREDENTIALS_FILE=shared LITESTREAM_ACCESS_KEY_ID=AKIDLS LITESTREAM_SECRET_ACCESS_KEY=secret-ls \
	    AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env &&
	cred &&
	echo "AKIDLS token=no expires=never secret=$(sha8 secret-ls) source=environment (LITESTREAM_*)" >expect &&
	test_cmp expect out
'

test_expect_success 'AWS_* beats the shared file' '
	export AWS_SHARED_CREDENTIALS_FILE=shared AWS_ACCESS_KEY_ID=AKIDENV AWS_SECRET_ACCESS_KEY=secret-env &&
	cred &&
	grep "^AKIDENV .*source=environment (AWS_\*)$" out
'

# Source 5: web identity through STS.

ARN=arn:aws:iam::123456789012:role/ls-test

test_expect_success 'setup: STS' '
	printf "eyJhbGciOiJSUzI1NiJ9.wi-token-body.sig" >wi-token &&
	server sts --mode sts --role-arn "$ARN" --token-file wi-token \
	    --session-name ls-test-session &&
	server sts2 --mode sts --role-arn "$ARN" --token-file wi-token \
	    --lifetime 4 &&
	server stsdeny --mode sts --role-arn "$ARN" --token-file wi-token --deny &&
	server stsbusy --mode sts --role-arn "$ARN" --token-file wi-token --fail 2 &&
	server stsdown --mode sts --role-arn "$ARN" --token-file wi-token --fail 100
'

# wi PORT: the environment for web identity against a local STS.
wi() {
	AWS_ROLE_ARN=$ARN
	AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/wi-token
	AWS_ENDPOINT_URL_STS=http://127.0.0.1:$1
	AWS_ROLE_SESSION_NAME=ls-test-session
	export AWS_ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE AWS_ENDPOINT_URL_STS \
	    AWS_ROLE_SESSION_NAME
}

test_expect_success 'web identity: AssumeRoleWithWebIdentity' '
	wi $(port sts) &&
	cred -r us-west-2 &&
	grep "^ASIASTS0001 token=yes expires=20[0-9-]*T[0-9:]*Z secret=$(sha8 secret-sts-1) source=web identity (STS)$" out &&
	test "$(issued sts)" = 1
'

test_expect_success 'web identity: AWS_ENDPOINT_URL, default session name ls-PID' '
	export AWS_ROLE_ARN=$ARN AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/wi-token \
	    AWS_ENDPOINT_URL=http://127.0.0.1:$(port sts2) &&
	cred &&
	grep "^ASIASTS0001 token=yes .* source=web identity (STS)$" out &&
	grep "^session ls-[0-9][0-9]*$" sts2.log
'

test_expect_success 'web identity: the expiry is the one STS gave' '
	wi $(port sts2) &&
	cred &&
	set -- $(cat out) &&
	exp=${3#expires=} &&
	grep "^issue [0-9]* $1 4 $exp$" sts2.log
'

test_expect_success 'web identity: STS 403 AccessDenied is permanent (100)' '
	wi $(port stsdeny) &&
	test_expect_code 100 cred &&
	echo "$E web identity (STS): AssumeRoleWithWebIdentity: 403 AccessDenied" >expect &&
	test_cmp expect err
'

test_expect_success 'web identity: a token STS does not accept (100)' '
	wi $(port sts) &&
	printf "another-token" >wrong-token &&
	export AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/wrong-token &&
	test_expect_code 100 cred &&
	echo "$E web identity (STS): AssumeRoleWithWebIdentity: 400 InvalidIdentityToken" >expect &&
	test_cmp expect err
'

test_expect_success 'web identity: 503s are retried' '
	wi $(port stsbusy) &&
	cred &&
	grep "^ASIASTS0001 " out &&
	test "$(grep -c "^fail" stsbusy.log)" = 2
'

test_expect_success 'web identity: STS down is temporary (111), tries bounded' '
	wi $(port stsdown) &&
	test_expect_code 111 cred &&
	echo "$E web identity (STS): AssumeRoleWithWebIdentity: 503" >expect &&
	test_cmp expect err &&
	test "$(grep -c "^fail" stsdown.log)" = 3
'

test_expect_success 'web identity: AWS_ROLE_ARN without a token file (100)' '
	export AWS_ROLE_ARN=$ARN &&
	test_expect_code 100 cred &&
	echo "$E AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not" >expect &&
	test_cmp expect err
'

test_expect_success 'web identity: an unreadable token file (100)' '
	wi $(port sts) &&
	export AWS_WEB_IDENTITY_TOKEN_FILE=$TRASH/no-such-token &&
	test_expect_code 100 cred &&
	echo "$E unable to read web identity token file $TRASH/no-such-token: No such file or directory" >expect &&
	test_cmp expect err
'

test_expect_success 'the shared file beats web identity' '
	wi $(port sts) &&
	export AWS_SHARED_CREDENTIALS_FILE=shared &&
	before=$(issued sts) &&
	cred &&
	grep "^AKIDFILE " out &&
	test "$(issued sts)" = "$before"
'

# Source 6: the ECS container endpoint.

test_expect_success 'setup: ECS' '
	server ecs --mode ecs --path /v2/creds --auth "Bearer ecs-auth" &&
	server ecsfile --mode ecs --auth "file-auth-value" &&
	server ecsopen --mode ecs --lifetime 4 &&
	server ecs20 --mode ecs --lifetime 20 &&
	server ecsfallback --mode ecs --lifetime 10 --fail-after 1
'

test_expect_success 'ECS: full URI with AWS_CONTAINER_AUTHORIZATION_TOKEN' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs)/v2/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-auth" &&
	cred &&
	grep "^ASIAECS0001 token=yes expires=20[0-9-]*T[0-9:]*Z secret=$(sha8 secret-ecs-1) source=ECS container endpoint$" out
'

test_expect_success 'ECS: the token file wins over the token variable' '
	printf "file-auth-value\n" >ecs-token &&
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecsfile)/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TRASH/ecs-token &&
	cred &&
	grep "^ASIAECS0001 token=yes .* source=ECS container endpoint$" out
'

test_expect_success 'ECS: a refused token is permanent (100)' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs)/v2/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong-auth &&
	test_expect_code 100 cred &&
	echo "$E ECS container endpoint: 401" >expect &&
	test_cmp expect err &&
	! grep wrong-auth all.log
'

test_expect_success 'ECS: full URI must be https or local http (100, no request)' '
	for u in http://example.com/creds http://user@127.0.0.1/creds \
	    http://10.0.0.1/creds "ftp://127.0.0.1/creds"; do
		export AWS_CONTAINER_CREDENTIALS_FULL_URI=$u &&
		test_expect_code 100 cred &&
		echo "$E AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback address or the ECS or EKS agent" >expect &&
		test_cmp expect err || return 1
	done
'

test_expect_success 'ECS: allowed full URIs (URL only, no request)' '
	for u in https://creds.example/x http://127.0.0.2:8080/c \
	    http://localhost:8080/c \
	    "http://[::1]:80/c" http://169.254.170.2/v2/c \
	    http://169.254.170.23/v1/credentials "http://[fd00:ec2::23]/v1/c"; do
		export AWS_CONTAINER_CREDENTIALS_FULL_URI=$u &&
		cred -u && echo "$u" >expect && test_cmp expect out || return 1
	done
'

test_expect_success 'ECS: relative URI is under http://169.254.170.2 (URL only)' '
	export AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/0d9c-4e2f \
	    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:9/ignored &&
	cred -u &&
	echo http://169.254.170.2/v2/credentials/0d9c-4e2f >expect &&
	test_cmp expect out &&
	export AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=v2/x &&
	cred -u &&
	echo http://169.254.170.2/v2/x >expect &&
	test_cmp expect out
'

test_expect_success 'ECS: none configured (URL only)' '
	test_expect_code 1 cred -u &&
	test_must_fail test -s out
'

test_expect_success 'web identity beats ECS' '
	wi $(port sts) &&
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecsopen)/creds &&
	cred &&
	grep "source=web identity (STS)$" out &&
	test_must_fail grep "^issue" ecsopen.log
'

# Source 7: EC2 instance metadata.

test_expect_success 'setup: IMDS' '
	server imds --mode imds --role ls-role &&
	server imdsnorole --mode imds --no-role
'

test_expect_success 'IMDSv2: token, role, credentials' '
	export AWS_EC2_METADATA_DISABLED=false \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(port imds)/ &&
	cred &&
	grep "^ASIAIMDS0001 token=yes expires=20[0-9-]*T[0-9:]*Z secret=$(sha8 secret-imds-1) source=EC2 instance metadata (IMDSv2)$" out &&
	grep "^token$" imds.log &&
	test_must_fail grep "^refuse" imds.log
'

test_expect_success 'IMDS: AWS_EC2_METADATA_DISABLED=TRUE skips it' '
	export AWS_EC2_METADATA_DISABLED=TRUE \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(port imds)/ &&
	before=$(grep -c "^token" imds.log) &&
	test_expect_code 100 cred &&
	echo "$E $nothing" >expect &&
	test_cmp expect err &&
	test "$(grep -c "^token" imds.log)" = "$before"
'

test_expect_success 'IMDS: no role attached means no source' '
	export AWS_EC2_METADATA_DISABLED=false \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(port imdsnorole) &&
	test_expect_code 100 cred &&
	grep "EC2 IMDS (no IAM role)$" err
'

test_expect_success 'IMDS: unreachable means no source, quickly (100)' '
	export AWS_EC2_METADATA_DISABLED=false &&
	test_expect_code 100 timeout 10 "$TOP/t/unit/awscred" >out 2>err &&
	echo "$E no credentials found; tried config, LITESTREAM_*, AWS_*, shared file $HOME/.aws/credentials (absent), web identity (AWS_ROLE_ARN unset), ECS (unset), EC2 IMDS (unreachable: Couldn'"'"'t connect to server)" >expect &&
	test_cmp expect err
'

test_expect_success 'ECS beats IMDS' '
	export AWS_EC2_METADATA_DISABLED=false \
	    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$(port imds) \
	    AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecsopen)/creds &&
	before=$(grep -c "^token" imds.log) &&
	cred &&
	grep "source=ECS container endpoint$" out &&
	test "$(grep -c "^token" imds.log)" = "$before"
'

# Expiry and refresh.

test_expect_success 'refresh: min(5 minutes, half the lifetime) before expiry' '
	cred -R 100:104 && echo 102 >expect && test_cmp expect out &&
	cred -R 0:600 && echo 300 >expect && test_cmp expect out &&
	cred -R 0:3600 && echo 3300 >expect && test_cmp expect out &&
	cred -R 0:0 && echo 0 >expect && test_cmp expect out &&
	cred -R 50:40 && echo 50 >expect && test_cmp expect out
'

test_expect_success 'refresh: long-lived credentials are fetched once' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs)/v2/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-auth" &&
	before=$(issued ecs) &&
	cred -n 3 -w 300 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued ecs)" = $((before + 1))
'

test_expect_success 'refresh: short-lived STS credentials are fetched again in time' '
	wi $(port sts2) &&
	before=$(issued sts2) &&
	cred -n 2 -w 3000 &&
	test "$(issued sts2)" = $((before + 2)) &&
	k1=$(sed -n 1p out | cut -d" " -f1) &&
	k2=$(sed -n 2p out | cut -d" " -f1) &&
	test "$k1" != "$k2" &&
	grep "^issue $((before + 2)) $k2 " sts2.log
'

test_expect_success 'refresh: short-lived ECS credentials are fetched again' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecsopen)/creds &&
	before=$(issued ecsopen) &&
	cred -n 2 -w 3000 &&
	test "$(issued ecsopen)" = $((before + 2)) &&
	printf "ASIAECS%04d\nASIAECS%04d\n" $((before + 1)) $((before + 2)) >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got
'

test_expect_success 'refresh: not before half the lifetime' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs20)/creds &&
	cred -n 3 -w 1000 &&
	test "$(cut -d" " -f1 out | sort -u)" = ASIAECS0001 &&
	test "$(issued ecs20)" = 1
'

# Lifetime 10 s: the refresh is due 5 or 6 s on, the credentials are good
# for more than 9.
test_expect_success 'refresh: a failed refresh keeps credentials still valid' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecsfallback)/creds &&
	cred -n 2 -w 6100
	rc=$? &&
	cat out err ecsfallback.log &&
	test $rc = 0 &&
	test "$(cut -d" " -f1 out | sort -u)" = ASIAECS0001 &&
	test "$(issued ecsfallback)" = 1 &&
	grep "^fail" ecsfallback.log
'

test_expect_success 'awscred_expire forces a refetch' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs)/v2/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-auth" &&
	before=$(issued ecs) &&
	cred -n 4 -x 3 &&
	test "$(issued ecs)" = $((before + 2)) &&
	a=ASIAECS$(printf %04d $((before + 1))) &&
	b=ASIAECS$(printf %04d $((before + 2))) &&
	printf "%s\n" $a $a $b $b >expect &&
	cut -d" " -f1 out >got &&
	test_cmp expect got
'

test_expect_success 'threads share one fetch' '
	export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:$(port ecs)/v2/creds \
	    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer ecs-auth" &&
	before=$(issued ecs) &&
	cred -t 8 -n 5 &&
	test $(wc -l <out) = 40 &&
	test $(cut -d" " -f1 out | sort -u | wc -l) = 1 &&
	test "$(issued ecs)" = $((before + 1))
'

test_expect_success 'no secret or token in any output' '
	test -s all.log &&
	test_must_fail grep -e "secret-[a-z]*[0-9]" -e "secret-config" \
	    -e "secret-ls" -e "secret-env" -e "secret-file" -e "secret-other" \
	    -e "secret-x" -e "secret-in" -e "token-[a-z]*-[0-9]" -e "token-env" \
	    -e "token-other" -e "wi-token-body" -e "another-token" \
	    -e "ecs-auth" -e "file-auth-value" all.log
'

test_done
