"""Plays Amazon Data Firehose's part of the pipeline around the real function,
for tests/pipeline.rs. Everything it stores goes to moto's S3 and Kinesis; the
function runs under `cargo lambda watch` (the real Lambda runtime API), and
its re-ingestion goes through tests/support/fault_proxy.py to moto.

What it simulates, and the Firehose behaviour it relies on (as AWS's
Firehose and Lambda documentation states it; quoted where it matters):

- Traffic: an hour of CloudWatch Logs subscription records (gzip of one
  DATA_MESSAGE document each, ids unique), compressed in time: one simulated
  minute per loop, bursts that overflow the function's response budget, a
  CONTROL_MESSAGE when the subscription starts, bad records (not gzip nor
  JSON, truncated gzip, a JSON array, an unknown messageType), a gzip bomb,
  and one event too large for any Firehose record.
- Source: with `--source kinesis` the records are written to a Kinesis data
  stream in moto with PutRecords (as CloudWatch Logs does) and read back with
  GetRecords, as Firehose reads its source; the events then carry
  `sourceKinesisStreamArn` and `kinesisRecordMetadata`, and the function
  re-ingests into that stream ("A stream whose source is a Kinesis data
  stream refuses PutRecordBatch; write back to the source stream with Kinesis
  PutRecords and the record's original partitionKey"). With `--source direct`
  records are put into the simulated stream directly (DirectPut) and the
  function re-ingests with PutRecordBatch into a moto delivery stream whose
  S3 objects (one per call, records concatenated) are read back and split
  into records again: every record the function re-ingests is one gzip
  member, so the members are the records.
- Buffering: records are buffered and the function is invoked at least once
  per (simulated) buffer interval, with at most `--buffer-bytes` of data per
  invocation, measured on the compressed input ("The Lambda buffer ... is
  measured on the COMPRESSED input").
- Responses are checked as Firehose would: every recordId exactly once, in
  order, a valid result, `data` on Ok records ("Every input recordId comes
  back exactly once ... else the whole batch fails"), the 6 MB limit.
- Ok data is concatenated with no delimiter into GZIP objects under
  `logs/YYYY/MM/DD/HH/`, the arrival hour of the object's oldest record
  ("Firehose concatenates record outputs with no delimiter"; the template's
  CompressionFormat GZIP and Prefix; "the ARRIVAL hour (UTC) of the oldest
  record in the object").
- ProcessingFailed records are written as Firehose's error objects, one JSON
  object per line with the ORIGINAL record as base64 `rawData`, `errorCode`
  `Lambda.ProcessingFailedStatus`, `attemptsMade`, `arrivalTimestamp`,
  `errorMessage`, `attemptEndingTimestamp`, `lambdaArn`, under
  `processing-failed/processing-failed/YYYY/MM/DD/HH/` (the template's
  ErrorOutputPrefix), GZIP like the rest.
- Dropped records are not delivered.
- A failed invocation (function error, bad response) would be retried
  NumberOfRetries times (3), then every record of the batch goes to
  processing-failed/ with errorCode `Lambda.FunctionError` ("A function
  error ... fails the WHOLE batch"). The test expects none.

Bounded: the hour is 60 loops, the drain after it at most 40, every HTTP call
has a timeout, and the whole run stops after --max-seconds.

usage: firehose_sim.py run --moto URL --lambda-port N --source kinesis|direct
                           --out DIR [--seed N] [--minutes M,...]
                           [--throttle-minutes M,...]
Prints a JSON report on stdout, writes DIR/expected_ids.json, and at the end
reads every object it delivered back from moto's S3 into DIR/objects/ (the
report lists them). `--minutes` simulates only those minutes of the hour;
in `--throttle-minutes` Lambda throttles every invocation, so Firehose writes
those batches whole to processing-failed/ (errorCode
`Lambda.InvokeLimitExceeded`), as it does when the function's concurrency is
exhausted through all its retries.

For tests/recover.rs, around `cwl-firehose recover`:
  firehose_sim.py create-stream --moto URL --name NAME   a DirectPut stream
  firehose_sim.py drain --moto URL --lambda-port N --stream NAME --out DIR
      what was put into NAME goes through the function into the log bucket
  firehose_sim.py list --moto URL --prefix P [--text]    the bucket's objects
  firehose_sim.py put --moto URL --key K --file F [--gzip]
"""
import argparse
import base64
import gzip
import http.client
import json
import os
import random
import sys
import time
import uuid
import zlib

import boto3

HOUR_START_MS = 1764300600000  # 2025-11-28T03:30:00Z: the hour spans the 03 and 04 prefixes
MINUTE_MS = 60_000
ACCOUNT = "123456789012"
REGION = "us-east-1"
LOG_BUCKET = "pipeline-logs"
REINGEST_BUCKET = "pipeline-reingest"
LAMBDA_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:cwl-firehose-lambda"
ERROR_PREFIX = "processing-failed/processing-failed/"
NUMBER_OF_RETRIES = 3
S3_INTERVAL_MINUTES = 5  # the destination buffer interval, simulated
BURSTS = {12, 13, 37, 52}
LAMBDA_LIMIT = 6_291_456


def clients(endpoint):
    kw = dict(endpoint_url=endpoint, region_name=REGION,
              aws_access_key_id="test", aws_secret_access_key="test")
    return boto3.client("s3", **kw), boto3.client("firehose", **kw), boto3.client("kinesis", **kw)


# ------------------------------------------------------------------ traffic

def event_id(minute, record, event):
    # CloudWatch Logs ids are 56-digit numbers.
    return f"{minute:04d}{record:06d}{event:06d}".rjust(56, "3")


WORDS = ("order", "payment", "user", "request", "latency", "cache", "miss", "hit", "retry",
         "upstream", "timeout", "accepted", "declined", "session", "token", "region", "shard",
         "queue", "batch", "commit", "rollback", "checkout", "basket", "invoice", "refund")


def message(rng, minute, i, size):
    kind = rng.random()
    if kind < 0.6:
        text = json.dumps({"level": rng.choice(["info", "warn", "error"]),
                           "path": f"/v1/orders/{rng.randrange(10**6)}",
                           "latency_ms": rng.randrange(900), "minute": minute, "n": i})
    elif kind < 0.8:
        text = (f'10.0.{rng.randrange(255)}.{rng.randrange(255)} - - "GET /img/{i}.png HTTP/1.1" '
                f'200 {rng.randrange(99999)} "-" "Mozilla/5.0 (X11; Linux) Zahlung über 12,50 €"')
    else:
        text = ("ERROR Unhandled exception\nTraceback (most recent call last):\n"
                f'  File "/var/task/app.py", line {rng.randrange(400)}, in handler\n'
                "ValueError: balance < 0\n")
    # Padded with words and numbers to about `size`: compresses like real logs (5-10x).
    pad, length = [], len(text)
    while length < size:
        word = rng.choice(WORDS) if rng.random() < 0.7 else str(rng.randrange(10**6))
        pad.append(word)
        length += len(word) + 1
    return text + (" " + " ".join(pad) if pad else "")


def document(group, stream, events, message_type="DATA_MESSAGE"):
    return json.dumps({"messageType": message_type, "owner": ACCOUNT, "logGroup": group,
                       "logStream": stream, "subscriptionFilters": ["to-firehose"],
                       "logEvents": events}, separators=(",", ":")).encode()


def traffic(seed):
    """Per simulated minute, the records CloudWatch Logs writes: (data bytes,
    kind, event ids, partition key). Kinds other than "data" and "oversize"
    are never delivered."""
    rng = random.Random(seed)
    minutes = []
    groups = ["/ecs/api", "/aws/lambda/payments", "/app/web"]
    for m in range(60):
        recs = []
        burst = m in BURSTS
        for r in range(120 if burst else rng.randint(6, 12)):
            group = rng.choice(groups)
            stream = f"{group.strip('/').replace('/', '-')}/{rng.randrange(4)}"
            n = rng.randint(30, 45) if burst else rng.randint(3, 25)
            size = 250 if burst else rng.randint(60, 400)
            events = []
            for e in range(n):
                events.append({"id": event_id(m, r, e),
                               "timestamp": HOUR_START_MS + m * MINUTE_MS + r * 100 + e,
                               "message": message(rng, m, e, size)})
            recs.append((gzip.compress(document(group, stream, events), 6), "data",
                         [e["id"] for e in events], stream))
        if m == 0:
            control = document("", "", [{"id": "", "timestamp": HOUR_START_MS,
                                         "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}],
                               "CONTROL_MESSAGE")
            control = control.replace(f'"owner":"{ACCOUNT}"'.encode(), b'"owner":"CloudwatchLogs"')
            recs.insert(0, (gzip.compress(control, 6), "control", [], "control"))
        if m in (7, 23, 41):
            good = gzip.compress(document("/ecs/api", "bad", [
                {"id": event_id(m, 9000, 0), "timestamp": HOUR_START_MS + m * MINUTE_MS, "message": "m"}]))
            unknown = document("/ecs/api", "bad", [
                {"id": event_id(m, 9001, 0), "timestamp": HOUR_START_MS + m * MINUTE_MS, "message": "m"}],
                "SOMETHING_NEW")
            recs += [(b"plain text, neither gzip nor JSON", "bad", [], "bad"),
                     (good[: len(good) // 2], "bad", [], "bad"),
                     (gzip.compress(b"[1,2,3]"), "bad", [], "bad"),
                     (gzip.compress(unknown), "bad", [event_id(m, 9001, 0)], "bad")]
        if m == 33:
            # 20 MiB of spaces in one message: about 20 KB of gzip, past the
            # 16 MiB inflate cap.
            bomb = document("/ecs/api", "bomb", [
                {"id": event_id(m, 9500, 0), "timestamp": HOUR_START_MS + m * MINUTE_MS,
                 "message": " " * (20 << 20)}])
            recs.append((gzip.compress(bomb, 9), "bomb", [event_id(m, 9500, 0)], "bomb"))
        if m == 50:
            # One event of 800 KB: its line is larger than the 1,000,000-byte
            # response budget, so no split can deliver it; replay (no budget) can.
            big = [{"id": event_id(m, 9700, 0), "timestamp": HOUR_START_MS + m * MINUTE_MS,
                    "message": message(rng, m, 0, 800_000)}]
            recs.append((gzip.compress(document("/app/web", "big", big), 6), "oversize",
                         [big[0]["id"]], "big"))
        rng.shuffle(recs)
        minutes.append(recs)
    return minutes


# ------------------------------------------------------------------ Firehose

class Sim:
    def __init__(self, args):
        self.args = args
        self.s3, self.firehose, self.kinesis = clients(args.moto)
        self.source = args.source
        self.stream_name = getattr(args, "stream", None) or f"pipeline-{args.source}"
        self.throttled = False
        self.delivery_arn = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{self.stream_name}"
        self.kinesis_arn = None
        self.buffer = []  # (data bytes, arrival ms, kinesis metadata or None)
        self.ok_data = []  # (arrival ms, bytes)
        self.errors = []  # error lines (dicts)
        self.objects = 0
        self.report = {"invocations": 0, "records_in": 0, "ok": 0, "dropped": 0,
                       "processing_failed": 0, "reingested_back": 0, "failed_invocations": 0,
                       "contract_violations": [], "max_request_bytes": 0,
                       "max_response_bytes": 0, "invocation_seconds": [], "s3_objects": 0,
                       "error_objects": 0, "failed_reasons": {}}
        self.seen_keys = set()
        self.collected = 0
        self.put_by_source = 0
        self.iterators = {}
        self.started = time.monotonic()

    def setup(self):
        for b in (LOG_BUCKET, REINGEST_BUCKET):
            try:
                self.s3.create_bucket(Bucket=b)
            except self.s3.exceptions.BucketAlreadyOwnedByYou:
                pass
        if self.source == "kinesis":
            self.kinesis.create_stream(StreamName=self.stream_name, ShardCount=2)
            d = self.kinesis.describe_stream(StreamName=self.stream_name)["StreamDescription"]
            self.kinesis_arn = d["StreamARN"]
            for shard in d["Shards"]:
                self.iterators[shard["ShardId"]] = self.kinesis.get_shard_iterator(
                    StreamName=self.stream_name, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        else:
            # Where the function's PutRecordBatch lands: moto writes one
            # object per call, which is read back as the stream's new records.
            self.firehose.create_delivery_stream(
                DeliveryStreamName=self.stream_name, DeliveryStreamType="DirectPut",
                ExtendedS3DestinationConfiguration={
                    "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
                    "BucketARN": f"arn:aws:s3:::{REINGEST_BUCKET}",
                    "Prefix": f"{self.stream_name}/"})

    def add_source_records(self, records, now_ms):
        """What CloudWatch Logs writes in this minute."""
        if self.source == "kinesis":
            for i in range(0, len(records), 200):
                chunk = records[i:i + 200]
                out = self.kinesis.put_records(StreamName=self.stream_name, Records=[
                    {"Data": data, "PartitionKey": pk} for data, _, _, pk in chunk])
                assert out["FailedRecordCount"] == 0, out
            self.put_by_source += len(records)
        else:
            self.buffer += [(data, now_ms, None) for data, _, _, _ in records]

    def collect(self, now_ms):
        """New records in the source: Kinesis GetRecords (CloudWatch Logs'
        records and the function's re-ingested ones alike), or the DirectPut
        stream's re-ingested records from moto's objects."""
        n = 0
        if self.source == "kinesis":
            # CloudWatch Logs' records and the function's re-ingested ones.
            for shard, it in list(self.iterators.items()):
                for _ in range(100):  # bounded: pages until caught up
                    page = self.kinesis.get_records(ShardIterator=it, Limit=10000)
                    for r in page["Records"]:
                        meta = {"shardId": shard, "partitionKey": r["PartitionKey"],
                                "approximateArrivalTimestamp": now_ms,
                                "sequenceNumber": r["SequenceNumber"], "subsequenceNumber": 0}
                        self.buffer.append((r["Data"], now_ms, meta))
                        n += 1
                    it = page["NextShardIterator"]
                    if not page["Records"] or page.get("MillisBehindLatest", 0) == 0:
                        break
                self.iterators[shard] = it
            self.collected += n
            return n
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=REINGEST_BUCKET, Prefix=f"{self.stream_name}/")
        keys = sorted(o["Key"] for p in pages for o in p.get("Contents", [])
                      if o["Key"] not in self.seen_keys)
        for key in keys:
            self.seen_keys.add(key)
            body = self.s3.get_object(Bucket=REINGEST_BUCKET, Key=key)["Body"].read()
            for member in gzip_members(body):
                self.buffer.append((member, now_ms, None))
                n += 1
        self.report["reingested_back"] += n
        return n

    def flush_buffer(self, now_ms):
        """Invokes the function on everything buffered, at most
        --buffer-bytes of data per invocation."""
        while self.buffer:
            batch, size = [], 0
            while self.buffer and (not batch or size + len(self.buffer[0][0]) <= self.args.buffer_bytes):
                rec = self.buffer.pop(0)
                batch.append(rec)
                size += len(rec[0])
            self.invoke(batch, now_ms)

    def event(self, batch):
        records = []
        for i, (data, arrival, meta) in enumerate(batch):
            r = {"recordId": f"{uuid.uuid4().hex}{i:06d}", "approximateArrivalTimestamp": arrival,
                 "data": base64.b64encode(data).decode()}
            if meta is not None:
                r["kinesisRecordMetadata"] = meta
            records.append(r)
        e = {"invocationId": str(uuid.uuid4()), "deliveryStreamArn": self.delivery_arn,
             "region": REGION, "records": records}
        if self.kinesis_arn:
            e["sourceKinesisStreamArn"] = self.kinesis_arn
        return e

    def invoke(self, batch, now_ms):
        event = self.event(batch)
        body = json.dumps(event).encode()
        self.report["max_request_bytes"] = max(self.report["max_request_bytes"], len(body))
        self.report["records_in"] += len(batch)
        if self.throttled:
            # Lambda refused every attempt (the account's concurrency was
            # exhausted): after its retries Firehose writes the whole batch
            # to processing-failed/ with the invocation's error code.
            self.report["throttled_records"] = self.report.get("throttled_records", 0) + len(batch)
            for data, arrival, _ in batch:
                self.error_line(data, arrival, "Lambda.InvokeLimitExceeded",
                                "Rate Exceeded. (Service: Lambda, Status Code: 429)",
                                1 + NUMBER_OF_RETRIES)
            return
        answer, reason = None, None
        for attempt in range(1 + NUMBER_OF_RETRIES):
            self.report["invocations"] += 1
            started = time.monotonic()
            status, payload = post(self.args.lambda_port, body)
            self.report["invocation_seconds"].append(round(time.monotonic() - started, 3))
            answer, reason = check_response(event, status, payload)
            if reason is None:
                break
            self.report["contract_violations"].append(reason)
        if reason is not None:
            # Firehose gives up on the batch: every record to processing-failed/.
            self.report["failed_invocations"] += 1
            for r, (data, arrival, _) in zip(event["records"], batch):
                self.error_line(data, arrival, "Lambda.FunctionError", reason, 1 + NUMBER_OF_RETRIES)
            return
        self.report["max_response_bytes"] = max(self.report["max_response_bytes"], len(payload))
        for out, (data, arrival, _) in zip(answer["records"], batch):
            result = out["result"]
            if result == "Ok":
                self.report["ok"] += 1
                self.ok_data.append((arrival, base64.b64decode(out["data"])))
            elif result == "Dropped":
                self.report["dropped"] += 1
            else:
                self.report["processing_failed"] += 1
                self.error_line(data, arrival, "Lambda.ProcessingFailedStatus",
                                "The Lambda function returned ProcessingFailed for this record.", 1)

    def error_line(self, data, arrival, code, text, attempts):
        self.errors.append({"attemptsMade": attempts, "arrivalTimestamp": arrival,
                            "errorCode": code, "errorMessage": text,
                            "attemptEndingTimestamp": int(time.time() * 1000),
                            "rawData": base64.b64encode(data).decode(), "lambdaArn": LAMBDA_ARN})

    def deliver(self):
        """The destination buffer's interval: one GZIP object of the Ok data,
        one error object, keyed by the oldest record's arrival hour."""
        if self.ok_data:
            oldest = min(a for a, _ in self.ok_data)
            key = f"logs/{hour_prefix(oldest)}{self.stream_name}-{self.objects:04d}.json.gz"
            body = b"".join(d for _, d in self.ok_data)
            self.s3.put_object(Bucket=LOG_BUCKET, Key=key, Body=gzip.compress(body))
            self.report["s3_objects"] += 1
            self.ok_data = []
        if self.errors:
            oldest = min(e["arrivalTimestamp"] for e in self.errors)
            key = f"{ERROR_PREFIX}{hour_prefix(oldest)}{self.stream_name}-{self.objects:04d}.json.gz"
            body = "".join(json.dumps(e) + "\n" for e in self.errors).encode()
            self.s3.put_object(Bucket=LOG_BUCKET, Key=key, Body=gzip.compress(body))
            self.report["error_objects"] += 1
            self.errors = []
        self.objects += 1

    def check_time(self):
        if time.monotonic() - self.started > self.args.max_seconds:
            sys.exit(f"the simulation ran past {self.args.max_seconds} s")

    def run(self):
        self.setup()
        minutes = traffic(self.args.seed)
        only = {int(m) for m in self.args.minutes.split(",") if m} or None
        throttle = {int(m) for m in self.args.throttle_minutes.split(",") if m}
        minutes = [recs if only is None or m in only else [] for m, recs in enumerate(minutes)]
        expected, never = [], []
        kinds = {}
        for recs in minutes:
            for _, kind, ids, _ in recs:
                kinds[kind] = kinds.get(kind, 0) + 1
                (expected if kind in ("data", "oversize") else never).extend(ids)
        with open(os.path.join(self.args.out, "expected_ids.json"), "w") as f:
            json.dump({"deliverable": expected, "never": never, "kinds": kinds}, f)
        for m, recs in enumerate(minutes):
            now = HOUR_START_MS + m * MINUTE_MS
            self.add_source_records(recs, now)
            self.collect(now)
            self.throttled = m in throttle
            self.flush_buffer(now)
            self.throttled = False
            if (m + 1) % S3_INTERVAL_MINUTES == 0:
                self.deliver()
            self.check_time()
        # After the hour: what the function re-ingested comes back until
        # nothing does (bounded).
        drains = 0
        for drains in range(1, 41):
            now = HOUR_START_MS + (60 + drains) * MINUTE_MS
            if self.collect(now) == 0 and not self.buffer:
                break
            self.flush_buffer(now)
            self.check_time()
        self.deliver()
        self.report["drain_rounds"] = drains
        if self.source == "kinesis":
            self.report["reingested_back"] = self.collected - self.put_by_source
        self.report["source_records"] = kinds
        self.report["seconds"] = round(time.monotonic() - self.started, 2)
        secs = self.report.pop("invocation_seconds")
        self.report["invocation_seconds_max"] = max(secs) if secs else 0
        self.report["invocation_seconds_total"] = round(sum(secs), 2)
        # Read every object of this stream back from S3, for replay and DuckDB.
        self.report["objects"] = download_objects(
            self.s3, LOG_BUCKET, ["logs/", ERROR_PREFIX], f"{self.stream_name}-",
            os.path.join(self.args.out, "objects"))
        print(json.dumps(self.report))


    def drain(self):
        """What was put back into the stream (by `cwl-firehose recover`)
        goes through the function as Firehose would take it: read from the
        objects moto's delivery stream wrote, invoked, re-ingested overflow
        read back, until nothing comes; then delivered and downloaded."""
        self.started = time.monotonic()
        self.report["rounds"] = 0
        for rounds in range(1, 41):
            now = HOUR_START_MS + (120 + rounds) * MINUTE_MS
            self.report["rounds"] = rounds
            if self.collect(now) == 0 and not self.buffer:
                break
            self.flush_buffer(now)
            self.check_time()
        self.deliver()
        self.report["seconds"] = round(time.monotonic() - self.started, 2)
        self.report.pop("invocation_seconds")
        self.report["objects"] = download_objects(
            self.s3, LOG_BUCKET, ["logs/", ERROR_PREFIX], f"{self.stream_name}-",
            os.path.join(self.args.out, "drained"))
        print(json.dumps(self.report))


def create_stream(args):
    """A DirectPut delivery stream in moto that writes what it is given to
    REINGEST_BUCKET under NAME/ (one object per call), for `drain`."""
    s3, firehose, _ = clients(args.moto)
    try:
        s3.create_bucket(Bucket=REINGEST_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    firehose.create_delivery_stream(
        DeliveryStreamName=args.name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/firehose",
            "BucketARN": f"arn:aws:s3:::{REINGEST_BUCKET}",
            "Prefix": f"{args.name}/"})
    print(json.dumps({"arn": f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/{args.name}"}))


def listing(args):
    """Every object under PREFIX of the log bucket: key, size, ETag, SHA-256."""
    import hashlib
    s3, _, _ = clients(args.moto)
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=LOG_BUCKET, Prefix=args.prefix):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=LOG_BUCKET, Key=o["Key"])["Body"].read()
            text = None
            if args.text:
                text = (gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body).decode("utf-8", "replace")
            out.append({"key": o["Key"], "size": o["Size"], "etag": o["ETag"],
                        "sha256": hashlib.sha256(body).hexdigest(), "text": text})
    print(json.dumps(out))


def put_object(args):
    """Writes FILE at KEY in the log bucket (gzip when --gzip)."""
    s3, _, _ = clients(args.moto)
    try:
        s3.create_bucket(Bucket=LOG_BUCKET)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    with open(args.file, "rb") as f:
        body = f.read()
    s3.put_object(Bucket=LOG_BUCKET, Key=args.key, Body=gzip.compress(body) if args.gzip else body)
    print(json.dumps({"key": args.key}))


def gzip_members(body):
    """Splits concatenated gzip members back into the records they were."""
    out = []
    while body:
        d = zlib.decompressobj(wbits=31)
        d.decompress(body)
        rest = d.unused_data
        out.append(body[: len(body) - len(rest)])
        body = rest
    return out


def hour_prefix(ms):
    t = time.gmtime(ms / 1000)
    return f"{t.tm_year:04d}/{t.tm_mon:02d}/{t.tm_mday:02d}/{t.tm_hour:02d}/"


def post(port, body):
    """One Lambda Invoke through cargo lambda's invoke endpoint."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        conn.request("POST", "/2015-03-31/functions/cwl-firehose-lambda/invocations", body=body,
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        payload = resp.read()
        error = resp.getheader("X-Amz-Function-Error")
        conn.close()
        return (resp.status if not error else -resp.status), payload
    except OSError as e:
        return 0, str(e).encode()


def check_response(event, status, payload):
    """The response as Firehose judges it; (response, None) or (None, why)."""
    if status != 200:
        return None, f"invocation failed (status {status}): {payload[:300]!r}"
    if len(payload) > LAMBDA_LIMIT:
        return None, f"response of {len(payload)} bytes is over the Lambda limit"
    try:
        answer = json.loads(payload)
        out = answer["records"]
    except (ValueError, KeyError, TypeError):
        return None, f"malformed response: {payload[:300]!r}"
    ids = [r["recordId"] for r in event["records"]]
    if [r.get("recordId") for r in out] != ids:
        return None, "recordIds missing, duplicated or out of order"
    for r in out:
        if r.get("result") not in ("Ok", "Dropped", "ProcessingFailed"):
            return None, f"invalid result {r.get('result')!r}"
        if r["result"] == "Ok" and not isinstance(r.get("data"), str):
            return None, "an Ok record without data"
    return answer, None


def download_objects(s3, bucket, prefixes, contains, to):
    """Downloads the objects under `prefixes` whose keys contain `contains`."""
    os.makedirs(to, exist_ok=True)
    keys = []
    for prefix in prefixes:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for o in page.get("Contents", []):
                if contains not in o["Key"]:
                    continue
                path = os.path.join(to, o["Key"].replace("/", "_"))
                with open(path, "wb") as f:
                    f.write(s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read())
                keys.append({"key": o["Key"], "file": path})
    return keys


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--moto", required=True)
    r.add_argument("--lambda-port", type=int, required=True)
    r.add_argument("--source", choices=["kinesis", "direct"], required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--seed", type=int, default=14)
    r.add_argument("--buffer-bytes", type=int, default=1_000_000)
    r.add_argument("--max-seconds", type=float, default=240)
    r.add_argument("--minutes", default="", help="only these minutes of the hour (comma-separated)")
    r.add_argument("--throttle-minutes", default="",
                   help="minutes whose invocations Lambda throttles (comma-separated)")
    d = sub.add_parser("drain")
    d.add_argument("--moto", required=True)
    d.add_argument("--lambda-port", type=int, required=True)
    d.add_argument("--stream", required=True)
    d.add_argument("--out", required=True)
    d.add_argument("--buffer-bytes", type=int, default=1_000_000)
    d.add_argument("--max-seconds", type=float, default=240)
    c = sub.add_parser("create-stream")
    c.add_argument("--moto", required=True)
    c.add_argument("--name", required=True)
    ls = sub.add_parser("list")
    ls.add_argument("--moto", required=True)
    ls.add_argument("--prefix", required=True)
    ls.add_argument("--text", action="store_true")
    po = sub.add_parser("put")
    po.add_argument("--moto", required=True)
    po.add_argument("--key", required=True)
    po.add_argument("--file", required=True)
    po.add_argument("--gzip", action="store_true")
    args = p.parse_args()
    if args.command == "run":
        Sim(args).run()
    elif args.command == "drain":
        args.source = "direct"
        Sim(args).drain()
    elif args.command == "create-stream":
        create_stream(args)
    elif args.command == "list":
        listing(args)
    else:
        put_object(args)


if __name__ == "__main__":
    main()
