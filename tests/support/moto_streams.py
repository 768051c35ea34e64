"""Creates delivery streams and Kinesis streams in the moto server started by
tests/reingest_faults.rs (through tests/support/fault_proxy.py), and reads
back what re-ingestion wrote to them. boto3 comes with moto. JSON on stdout.

usage: moto_streams.py ENDPOINT setup FIREHOSE_NAMES KINESIS_NAMES
       moto_streams.py ENDPOINT read  FIREHOSE_NAMES KINESIS_NAMES
(names comma-separated; either list may be empty)

setup prints {"kinesis_arns": {name: arn}}. Each delivery stream writes to
its own prefix NAME/ of one bucket: moto stores one object per PutRecordBatch
call, the call's records concatenated, as Firehose would deliver them.

read prints {"firehose": {name: [event ids of each document]},
             "kinesis": {name: [{"ids": [...], "partition_key": ...}]}}:
the documents are gzip (or zlib) CloudWatch Logs documents, decoded here.
"""
import gzip
import json
import sys
import zlib

import boto3

BUCKET = "reingest-faults"


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name="us-east-1",
              aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("s3", **kw), boto3.client("firehose", **kw), boto3.client("kinesis", **kw)


def documents(data):
    """The CloudWatch Logs documents in concatenated gzip members (or one zlib stream)."""
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    elif data[:1] == b"\x78":
        data = zlib.decompress(data)
    text, docs, at = data.decode(), [], 0
    decoder = json.JSONDecoder()
    while at < len(text):
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            break
        doc, at = decoder.raw_decode(text, at)
        docs.append(doc)
    return docs


def ids(doc):
    return [e["id"] for e in doc.get("logEvents", [])]


def main():
    endpoint, command = sys.argv[1], sys.argv[2]
    firehose_names = [n for n in sys.argv[3].split(",") if n]
    kinesis_names = [n for n in sys.argv[4].split(",") if n]
    s3, firehose, kinesis = clients(endpoint)
    if command == "setup":
        s3.create_bucket(Bucket=BUCKET)
        for name in firehose_names:
            firehose.create_delivery_stream(
                DeliveryStreamName=name, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": "arn:aws:iam::123456789012:role/firehose",
                    "BucketARN": f"arn:aws:s3:::{BUCKET}", "Prefix": f"{name}/"})
        arns = {}
        for name in kinesis_names:
            kinesis.create_stream(StreamName=name, ShardCount=1)
            arns[name] = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
        print(json.dumps({"kinesis_arns": arns}))
    elif command == "read":
        out = {"firehose": {}, "kinesis": {}}
        for name in firehose_names:
            docs = []
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=f"{name}/")
            for page in pages:
                for o in page.get("Contents", []):
                    body = s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read()
                    docs += [ids(d) for d in documents(body)]
            out["firehose"][name] = docs
        for name in kinesis_names:
            records = []
            for shard in kinesis.list_shards(StreamName=name)["Shards"]:
                it = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"],
                                                ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
                for _ in range(10_000):  # bounded: a page per call, stop at the first empty one
                    page = kinesis.get_records(ShardIterator=it, Limit=10000)
                    for r in page["Records"]:
                        for d in documents(r["Data"]):
                            records.append({"ids": ids(d), "partition_key": r["PartitionKey"]})
                    it = page.get("NextShardIterator")
                    if not page["Records"] or not it:
                        break
            out["kinesis"][name] = records
        print(json.dumps(out))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
