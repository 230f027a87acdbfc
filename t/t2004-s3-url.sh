#!/bin/sh
test_description='S3 replica URLs: buckets, providers, access points, and the settings over them'
. "$(dirname "$0")/lib.sh"

u() { "$TOP/t/unit/s3url" "$@"; }

check() {
	_want=$1; shift
	_got=$(u "$@")
	if [ "$_got" != "$_want" ]; then
		echo "s3url $*"
		echo "  want: $_want"
		echo "  got:  $_got"
		return 1
	fi
}

test_expect_success 'AWS buckets: virtual-hosted, region looked up later' '
	check "bucket=mybkt prefix=db scheme=https host=- region=- path-style=0 access-point=0" s3://mybkt/db &&
	check "bucket=mybkt prefix=a/b/c scheme=https host=- region=- path-style=0 access-point=0" s3://mybkt//a/b/c/ &&
	check "bucket=mybkt prefix= scheme=https host=- region=- path-style=0 access-point=0" s3://mybkt &&
	check "bucket=my.dotted.bucket prefix=db scheme=https host=- region=- path-style=1 access-point=0" s3://my.dotted.bucket/db &&
	check "bucket=mybkt prefix=db scheme=https host=- region=eu-west-1 path-style=0 access-point=0" s3://mybkt/db region=eu-west-1
'

test_expect_success 'providers recognized from the host, as Litestream does' '
	check "bucket=mybkt prefix=db scheme=https host=us-east-1.linodeobjects.com region=us-east-1 path-style=1 access-point=0" s3://mybkt.us-east-1.linodeobjects.com/db &&
	check "bucket=mybkt prefix=db scheme=https host=nyc3.digitaloceanspaces.com region=nyc3 path-style=1 access-point=0" s3://mybkt.nyc3.digitaloceanspaces.com/db &&
	check "bucket=mybkt prefix=db scheme=https host=s3.us-west-002.backblazeb2.com region=us-west-002 path-style=1 access-point=0" s3://mybkt.s3.us-west-002.backblazeb2.com/db &&
	check "bucket=mybkt prefix=db scheme=https host=s3.fr-par.scw.cloud region=fr-par path-style=1 access-point=0" s3://mybkt.s3.fr-par.scw.cloud/db &&
	check "bucket=mybkt prefix=db scheme=https host=s3.filebase.com region=us-east-1 path-style=1 access-point=0" s3://mybkt.s3.filebase.com/db &&
	check "bucket=mybkt prefix=db scheme=http host=localhost:9000 region=us-east-1 path-style=1 access-point=0" s3://mybkt.localhost:9000/db &&
	check "bucket=mybkt prefix=db scheme=https host=us-east-1.linodeobjects.com:8443 region=us-east-1 path-style=1 access-point=0" s3://mybkt.us-east-1.linodeobjects.com:8443/db
'

test_expect_success 'the seeds: Linode, access points, MinIO through settings' '
	check "bucket=BUCKETNAME prefix=db scheme=https host=us-east-1.linodeobjects.com region=us-east-1 path-style=1 access-point=0" s3://BUCKETNAME.us-east-1.linodeobjects.com/db &&
	check "bucket= prefix=backups/prod scheme=https host=my-access-point-123456789012.s3-accesspoint.us-east-2.amazonaws.com region=us-east-2 path-style=0 access-point=1" s3://arn:aws:s3:us-east-2:123456789012:accesspoint/my-access-point/backups/prod &&
	check "bucket= prefix=backups scheme=https host=my-access-point-123456789012.s3-accesspoint.us-east-2.amazonaws.com region=us-east-2 path-style=0 access-point=1" s3://arn:aws:s3:us-east-2:123456789012:accesspoint/my-access-point/backups region=us-east-2 &&
	check "bucket=mybucket prefix=mydb scheme=https host=minio.example.com:9000 region=us-east-1 path-style=1 access-point=0" s3://mybucket/mydb endpoint=https://minio.example.com:9000 region=us-east-1 &&
	check "bucket=mybkt prefix=db scheme=http host=127.0.0.1:9000 region=us-east-1 path-style=1 access-point=0" s3://mybkt/db endpoint=http://127.0.0.1:9000 region=us-east-1 &&
	check "bucket=mybkt prefix=db scheme=https host=minio.example.com region=- path-style=0 access-point=0" s3://mybkt/db endpoint=minio.example.com force-path-style=false
'

test_expect_success 'access point ARNs: region from the ARN unless set' '
	check "bucket= prefix=db/x scheme=https host=myap-123456789012.s3-accesspoint.us-west-2.amazonaws.com region=us-west-2 path-style=0 access-point=1" s3://arn:aws:s3:us-west-2:123456789012:accesspoint/myap/db/x &&
	check "bucket= prefix= scheme=https host=myap-123456789012.s3-accesspoint.us-west-2.amazonaws.com region=us-west-2 path-style=0 access-point=1" s3://arn:aws:s3:us-west-2:123456789012:accesspoint/myap &&
	check "bucket= prefix=db scheme=https host=ap-1-123456789012.s3-accesspoint.cn-north-1.amazonaws.com.cn region=cn-north-1 path-style=0 access-point=1" s3://arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/ap-1/db &&
	check "bucket= prefix=db scheme=https host=myap-123456789012.s3-accesspoint.us-west-2.amazonaws.com region=us-east-2 path-style=0 access-point=1" s3://arn:aws:s3:us-west-2:123456789012:accesspoint/myap/db region=us-east-2
'

test_expect_success 'bad URLs and settings: one line each' '
	check "error: s3://arn:aws:s3:us-west-2:123456789012:bucket/x: not an access point ARN (arn:aws:s3:REGION:ACCOUNT:accesspoint/NAME)" s3://arn:aws:s3:us-west-2:123456789012:bucket/x &&
	check "error: s3:///db: no bucket in the URL" s3:///db &&
	check "error: s3://mybkt:9000/db: a port needs a known provider host or an endpoint setting" s3://mybkt:9000/db &&
	check "error: endpoint ftp://x: not http:// or https://" s3://b/db endpoint=ftp://x &&
	check "error: endpoint http://h/path: not [http[s]://]HOST[:PORT]" s3://b/db endpoint=http://h/path &&
	check "error: s3://b/d#x: an S3 URL has no query or fragment" "s3://b/d#x"
'

test_expect_success 'an error exits 1 from the driver' '
	test_expect_code 1 u s3:///db >/dev/null
'

test_done
