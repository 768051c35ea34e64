"""A fault-injecting HTTP proxy on 127.0.0.1 in front of moto's server, for
the re-ingestion tests (tests/reingest_faults.rs, tests/pipeline.rs).

The function under test talks to it through the real AWS SDK for Rust
(AWS_ENDPOINT_URL). Every request is forwarded to moto unchanged, except the
data-plane calls of a stream that has a fault plan: Firehose PutRecordBatch
and Kinesis PutRecords. For those the plan picks, per call, one of

  ok        forwarded, moto's answer returned
  partial   only some records are forwarded; the answer is moto's real one
            with the other records marked failed (FailedPutCount /
            FailedRecordCount and per-record ErrorCode, as the APIs do)
  throttle  not forwarded: Firehose ServiceUnavailableException, Kinesis
            ProvisionedThroughputExceededException
  http500   not forwarded: HTTP 500 InternalFailure
  reset     not forwarded: the connection is reset (TCP RST)
  slow      not forwarded: no answer until after the client's per-call
            timeout, then the connection is closed
  lost      forwarded and applied by moto, then the connection is reset:
            the caller cannot know the records were accepted (the only
            fault that may cause duplicates)

The proxy starts moto itself (tests/support/moto_server.py, so one process
tree stops together), prints
"READY <proxy port> <moto port>" on stdout, and exits when stdin closes (its
parent went away) or after --lifetime seconds, whichever comes first.

Control, on the same port (JSON):
  POST /__faults/plan    {"<stream>": {"seed": 1, "weights": {"partial": 2, ...},
                          "calls": 40, "seconds": 3.0, "slow_seconds": 3.5,
                          "late_seconds": 2.5}}
      <stream> is the DeliveryStreamName (Firehose) or the stream name at the
      end of StreamARN (Kinesis). An optional "sequence" of kinds is used for
      the first calls, then faults are drawn for at most `calls` calls
      and for `seconds` after the stream's first call; after that every call
      is forwarded as it is. `weights` may include "ok".
  GET  /__faults/report  per stream: calls, faulted calls by kind, records
      accepted upstream, and the event ids in calls whose answer was lost, or
      left later than the plan's "late_seconds" (it may have reached the
      caller after its timeout); records are decoded as gzip or zlib of a
      CloudWatch Logs document.

Standard library only (plus moto's server, from the test virtualenv).
"""
import argparse
import base64
import gzip
import http.client
import json
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from moto_server import wait_for_stdin_to_close  # beside this file

FIREHOSE_PUT = "Firehose_20150804.PutRecordBatch"
KINESIS_PUT = "Kinesis_20131202.PutRecords"
KINDS = ("ok", "partial", "throttle", "http500", "reset", "slow", "lost")


class Plans:
    """Fault plans and what happened, per stream. One lock: calls are few."""

    def __init__(self):
        self.lock = threading.Lock()
        self.plans = {}
        self.report = {}
        self.slowest = 0.0

    def set(self, plans):
        with self.lock:
            for stream, plan in plans.items():
                self.plans[stream] = {
                    "rng": random.Random(plan.get("seed", 0)),
                    "weights": plan.get("weights", {}),
                    "calls_left": int(plan.get("calls", 1_000_000)),
                    "seconds": float(plan.get("seconds", 1e9)),
                    "slow_seconds": float(plan.get("slow_seconds", 2.0)),
                    "late_seconds": float(plan.get("late_seconds", 1e9)),
                    "first": None,
                    "sequence": list(plan.get("sequence", [])),
                }
                self.report.setdefault(stream, new_report())

    def draw(self, stream):
        """The fault for the next call to `stream`, and the plan's rng."""
        with self.lock:
            report = self.report.setdefault(stream, new_report())
            report["calls"] += 1
            plan = self.plans.get(stream)
            if plan is None:
                return "ok", random.Random(0), plan_defaults()
            now = time.monotonic()
            if plan["first"] is None:
                plan["first"] = now
            active = plan["calls_left"] > 0 and now - plan["first"] < plan["seconds"]
            kind = "ok"
            if active:
                plan["calls_left"] -= 1
                kinds = [k for k in KINDS if plan["weights"].get(k, 0) > 0]
                if plan["sequence"]:
                    kind = plan["sequence"].pop(0)
                elif kinds:
                    kind = plan["rng"].choices(kinds, [plan["weights"][k] for k in kinds])[0]
            if kind != "ok":
                report["faulted"][kind] = report["faulted"].get(kind, 0) + 1
            report["last_call_at"] = time.time()
            return kind, plan["rng"], plan

    def note(self, stream, accepted=0, lost_ids=(), late_ids=()):
        with self.lock:
            report = self.report.setdefault(stream, new_report())
            report["accepted_records"] += accepted
            report["lost_event_ids"].extend(lost_ids)
            report["late_event_ids"].extend(late_ids)

    def snapshot(self):
        with self.lock:
            return dict(json.loads(json.dumps(self.report)), _slowest_upstream_seconds=self.slowest)


def new_report():
    return {"calls": 0, "faulted": {}, "accepted_records": 0, "lost_event_ids": [],
            "late_event_ids": [], "late_calls": 0, "last_call_at": None}


def plan_defaults():
    return {"slow_seconds": 2.0, "late_seconds": 1e9}


def event_ids(data):
    """Event ids of one record's data (gzip, zlib or plain CloudWatch Logs JSON)."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:1] == b"\x78":
            data = zlib.decompress(data)
        return [e.get("id") for e in json.loads(data).get("logEvents", [])]
    except Exception:  # not a document: nothing to attribute
        return []


def stream_of(target, body):
    if target == FIREHOSE_PUT:
        return body.get("DeliveryStreamName", "")
    arn = body.get("StreamARN") or ""
    return arn.rsplit("/", 1)[-1] if arn else body.get("StreamName", "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy"

    def log_message(self, *args):  # quiet: the tests read the report instead
        pass

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def dispatch(self):
        started = time.monotonic()
        body = self.read_body()
        if self.path.startswith("/__faults/"):
            return self.control(body)
        target = self.headers.get("X-Amz-Target", "")
        if target not in (FIREHOSE_PUT, KINESIS_PUT):
            return self.relay(*self.forward(body))
        request = json.loads(body or b"{}")
        stream = stream_of(target, request)
        kind, rng, plan = self.server.plans.draw(stream)
        records = request.get("Records", [])
        if kind == "ok":
            status, headers, answer = self.forward(body)
            self.note_answer(stream, started, plan, records,
                             [e for e in answer_entries(target, status, answer)])
            return self.relay(status, headers, answer)
        if kind == "partial":
            return self.partial(target, stream, request, records, rng, started, plan)
        if kind == "throttle":
            if target == FIREHOSE_PUT:
                return self.error(400, "ServiceUnavailableException", "Slow down.")
            return self.error(400, "ProvisionedThroughputExceededException",
                              "Rate exceeded for stream %s under account 123456789012." % stream)
        if kind == "http500":
            return self.error(500, "InternalFailure", "Internal Service Failure")
        if kind == "reset":
            return self.reset()
        if kind == "slow":
            # Past the caller's per-call timeout, then nothing: never applied.
            time.sleep(plan["slow_seconds"])
            return self.reset()
        if kind == "lost":
            status, _, answer = self.forward(body)
            accepted = accepted_count(target, status, answer)
            lost = [i for r in records for i in event_ids(b64(r.get("Data", "")))] if accepted else []
            self.server.plans.note(stream, accepted=accepted, lost_ids=lost)
            return self.reset()
        raise AssertionError(kind)

    def note_answer(self, stream, started, plan, records, entries):
        """Counts what moto accepted. An answer that leaves here later than
        the plan's `late_seconds` may reach the caller after its per-call
        timeout (on a loaded machine even a plain success can): its
        accepted records are reported like a lost answer's."""
        accepted = [r for r, e in zip(records, entries) if not e.get("ErrorCode")]
        late = []
        if time.monotonic() - started >= plan["late_seconds"]:
            late = [i for r in accepted for i in event_ids(b64(r.get("Data", "")))]
            with self.server.plans.lock:
                self.server.plans.report[stream]["late_calls"] += 1
        self.server.plans.note(stream, accepted=len(accepted), late_ids=late)

    def partial(self, target, stream, request, records, rng, started, plan):
        """Forward a random part of the records; answer for all of them with
        moto's real entries for the forwarded ones and per-record errors for
        the rest, in request order."""
        failed = [rng.random() < 0.5 for _ in records]
        if records and not any(failed):
            failed[rng.randrange(len(records))] = True
        if len(records) > 1 and all(failed):
            failed[rng.randrange(len(records))] = False
        sent = [r for r, f in zip(records, failed) if not f]
        entries = []
        if sent:
            forward = dict(request, Records=sent)
            status, headers, answer = self.forward(json.dumps(forward).encode())
            if status != 200:
                return self.relay(status, headers, answer)
            upstream = json.loads(answer)
            entries = upstream["RequestResponses" if target == FIREHOSE_PUT else "Records"]
            self.note_answer(stream, started, plan, sent, entries)
        else:
            upstream = {"FailedPutCount": 0, "Encrypted": False} if target == FIREHOSE_PUT \
                else {"FailedRecordCount": 0}
        merged, it = [], iter(entries)
        for f in failed:
            if not f:
                merged.append(next(it))
            elif target == FIREHOSE_PUT:
                code = rng.choice(["ServiceUnavailableException", "ServiceUnavailableException",
                                   "InternalFailure"])
                merged.append({"ErrorCode": code, "ErrorMessage":
                               "Slow down." if code != "InternalFailure" else "Internal Service Failure"})
            else:
                code = rng.choice(["ProvisionedThroughputExceededException",
                                   "ProvisionedThroughputExceededException", "InternalFailure"])
                merged.append({"ErrorCode": code, "ErrorMessage":
                               "Rate exceeded for shard shardId-000000000000 in stream %s under "
                               "account 123456789012." % stream
                               if code != "InternalFailure" else "Internal Service Failure"})
        n_failed = sum(1 for e in merged if e.get("ErrorCode"))
        if target == FIREHOSE_PUT:
            upstream["RequestResponses"] = merged
            upstream["FailedPutCount"] = n_failed
        else:
            upstream["Records"] = merged
            upstream["FailedRecordCount"] = n_failed
        self.respond(200, json.dumps(upstream).encode(), "application/x-amz-json-1.1")

    def forward(self, body):
        started = time.monotonic()
        try:
            return self._forward(body)
        finally:
            took = time.monotonic() - started
            with self.server.plans.lock:
                self.server.plans.slowest = max(self.server.plans.slowest, took)

    def _forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.moto_port, timeout=60)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                        "expect")}
        headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        out = (resp.status, resp.getheaders(), data)
        conn.close()
        return out

    def relay(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection", "server",
                                 "date"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def respond(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, code, message):
        body = json.dumps({"__type": code, "message": message}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("x-amzn-ErrorType", code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reset(self):
        """Close with RST instead of FIN: SO_LINGER 0, and no shutdown()."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.server.reset_sockets.add(self.connection)

    def control(self, body):
        if self.path == "/__faults/plan":
            self.server.plans.set(json.loads(body))
            return self.respond(200, b"{}", "application/json")
        if self.path == "/__faults/report":
            return self.respond(200, json.dumps(self.server.plans.snapshot()).encode(),
                                "application/json")
        return self.respond(404, b"{}", "application/json")


def b64(text):
    try:
        return base64.b64decode(text)
    except Exception:
        return b""


def answer_entries(target, status, answer):
    """The per-record entries of a successful answer (none for an error)."""
    if status != 200:
        return []
    try:
        body = json.loads(answer)
    except ValueError:
        return []
    return body.get("RequestResponses" if target == FIREHOSE_PUT else "Records", [])


def accepted_count(target, status, answer):
    return sum(1 for e in answer_entries(target, status, answer) if not e.get("ErrorCode"))


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def shutdown_request(self, request):
        if request in self.reset_sockets:
            self.reset_sockets.discard(request)
            request.close()  # linger 0: the kernel sends RST
            return
        super().shutdown_request(request)


def die_with_parent():
    """Linux: moto gets SIGTERM if this proxy dies, even by SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lifetime", type=float, default=600.0, help="seconds before exiting anyway")
    args = p.parse_args()

    # moto binds a port of its own choosing (moto_server.py says why) and
    # stops when this proxy does: its stdin closes with ours.
    moto = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "moto_server.py"),
                             "--lifetime", str(args.lifetime + 60)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)
    try:
        ready = moto.stdout.readline().split()
        if ready[:1] != [b"READY"]:
            sys.exit("moto_server.py did not start")
        moto_port = int(ready[1])
        server = Server(("127.0.0.1", 0), Handler)
        server.moto_port = moto_port
        server.plans = Plans()
        server.reset_sockets = set()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print("READY %d %d" % (server.server_address[1], moto_port), flush=True)

        # Bounded: stop when the parent closes stdin, or after the lifetime.
        wait_for_stdin_to_close(args.lifetime)
        server.shutdown()
    finally:
        moto.terminate()
        try:
            moto.wait(10)
        except subprocess.TimeoutExpired:
            moto.kill()
    os._exit(0)


if __name__ == "__main__":
    main()
