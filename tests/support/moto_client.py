"""Talks to the moto server started by tests/reingest.rs, with boto3 (from
moto's own dependencies): creates the delivery stream, bucket and Kinesis
stream, and reads back what re-ingestion wrote. Prints JSON on stdout.

usage: moto_client.py ENDPOINT setup | s3-objects | kinesis-records
"""
import base64
import json
import sys

import boto3

BUCKET = "reingest-bucket"
STREAM = "logs"
SOURCE = "source"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("s3", **kw), boto3.client("firehose", **kw), boto3.client("kinesis", **kw)


def main():
    endpoint, command = sys.argv[1], sys.argv[2]
    s3, firehose, kinesis = clients(endpoint)
    if command == "setup":
        s3.create_bucket(Bucket=BUCKET)
        firehose.create_delivery_stream(
            DeliveryStreamName=STREAM, DeliveryStreamType="DirectPut",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                "BucketARN": f"arn:aws:s3:::{BUCKET}", "Prefix": "raw/"})
        kinesis.create_stream(StreamName=SOURCE, ShardCount=2)
        arn = kinesis.describe_stream(StreamName=SOURCE)["StreamDescription"]["StreamARN"]
        print(json.dumps({"kinesis_arn": arn}))
    elif command == "s3-objects":
        # moto writes one object per PutRecordBatch call: the call's records
        # concatenated, as Firehose would deliver them.
        keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))
        print(json.dumps([base64.b64encode(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()).decode()
                          for k in keys]))
    elif command == "kinesis-records":
        out = []
        for shard in kinesis.list_shards(StreamName=SOURCE)["Shards"]:
            it = kinesis.get_shard_iterator(StreamName=SOURCE, ShardId=shard["ShardId"],
                                            ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while it:
                page = kinesis.get_records(ShardIterator=it, Limit=10000)
                out += [{"data": base64.b64encode(r["Data"]).decode(), "partition_key": r["PartitionKey"]}
                        for r in page["Records"]]
                if not page["Records"]:
                    break
                it = page.get("NextShardIterator")
        print(json.dumps(out))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
