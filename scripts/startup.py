#!/usr/bin/env python3
"""Start-up time and memory of each Lambda function under cargo lambda watch's emulator.

For each function: `cargo lambda watch --only-lambda-apis` serves Lambda's runtime API on
loopback, the function's binary is started against it (as Lambda starts `bootstrap`), and its
sample event (functions/FN/events/) is posted to the emulator's invoke API twice:
- cold: from starting the process to the answer (process start, init, first event);
- warm: the second event alone;
- peak RSS: the process's VmHWM (/proc/PID/status) after both.
The functions' stores are moto's S3 and DynamoDB on loopback (a bucket and a table made here).

What each function does, so the figures are of real work and no traffic leaves loopback:
- scrape: the built-in registry (~134 missions, ~520 sources) written to the table at cold
  start, then a tick over every source's state with a cycle budget of 0 s, so no fetch starts
  (the fetcher refuses loopback hosts, and anything else would be the internet);
- normalize: the raw object its sample event names is put in the bucket first (a Kemlu portal
  page with its fetch metadata), so the event is normalized into `items/`;
- reconcile: its sample event names exactly that items object, so the items are reconciled
  into the table (cold: new items; warm: the same object again, unchanged);
- api: GET /health.
A function that exits (a start-up error) is reported at once with its last log line; one that
gives no answer within the timeout is reported as such; the others are still measured.

The binaries are host builds (`cargo build [--release] -p pantau-FN`), not the arm64 zips,
which this x86_64 machine cannot run: the figures are for this machine's cores.

usage: scripts/startup.py --bin-dir DIR --cargo-lambda PATH --moto-server PATH
"""

import argparse
import json
import tempfile
import threading
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUCKET = "pantau-startup"
TABLE = "pantau-startup"
# Seconds one invocation may take before the function counts as hung.
INVOKE_TIMEOUT = 60

# The raw object behind normalize's sample event: a Kemlu portal page of the built-in
# registry's tokyo/portal-berita source, with the metadata the scraper writes (RawMeta).
RAW_PORTAL_PAGE = json.dumps({"data": {"publication": [
    {"slug": "a", "title": "Berita A", "title_eng": "News A",
     "publish_date": "2026-11-26 09:30:00",
     "content_detail": "<p>Isi&nbsp;A</p>", "content_detail_eng": "<p>Body A</p>"},
    {"slug": "b", "title": "Berita B", "publish_date": "2026-11-25 18:00:00"},
], "meta": {"filtered": 2}}}).encode()
RAW_METADATA = {
    "mission": "tokyo",
    "source": "portal-berita",
    "kind": "kemlu_portal",
    "role": "official",
    "url": "https://backpanel.kemlu.go.id/public-content-service/api/contentMenu"
           "?slug[]=tokyo&slug[]=berita&portal=tokyo",
    "status": "200",
    "fetched-at": "2026-11-27T01:02:03.456+00:00",
    "content-type": "application/json",
}

# Each function's binary and the sample event it gets.
FUNCTIONS = [
    ("scrape", "schedule.json"),
    ("normalize", "sqs-s3-raw.json"),
    ("reconcile", "sqs-s3-items.json"),
    ("api", "http-get-health.json"),
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited at start ({proc.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{what}: nothing listens on 127.0.0.1:{port} after {seconds} s")


def aws_client(service, endpoint):
    import boto3  # moto's venv has it

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def object_key_of(event_file):
    """The S3 key in a sample SQS event (one record holding one S3 notification)."""
    sqs = json.loads(event_file.read_text())
    s3 = json.loads(sqs["Records"][0]["body"])
    return s3["Records"][0]["s3"]["object"]["key"]


def object_exists(endpoint, key):
    try:
        aws_client("s3", endpoint).head_object(Bucket=BUCKET, Key=key)
        return True
    except Exception:  # botocore's ClientError (404): the object is not there
        return False


def make_stores(endpoint):
    aws_client("s3", endpoint).create_bucket(Bucket=BUCKET)
    # normalize's sample event names a raw object: put it there, so normalize has work to do
    # and writes the items object reconcile's sample event names.
    raw_key = object_key_of(ROOT / "functions" / "normalize" / "events" / "sqs-s3-raw.json")
    aws_client("s3", endpoint).put_object(
        Bucket=BUCKET, Key=raw_key, Body=RAW_PORTAL_PAGE,
        ContentType="application/json", Metadata=RAW_METADATA,
    )
    attrs = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
    gsi = lambda n: {
        "IndexName": f"gsi{n}",
        "KeySchema": [
            {"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
            {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    aws_client("dynamodb", endpoint).create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[gsi(1), gsi(2)],
    )


class NoAnswer(Exception):
    """The function exited or did not answer; the message says which, with its last log line."""


def last_log_line(log):
    lines = [line for line in Path(log.name).read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def invoke(port, body, function, log):
    """Posts one event and waits for the answer, or for the function to exit: the emulator
    would hold the invocation until its timeout for a function that never polls for it."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/2015-03-31/functions/_/invocations",
        data=body,
        method="POST",
        headers={"content-type": "application/json"},
    )
    outcome = {}

    def post():
        try:
            with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT + 5) as response:
                outcome["answer"] = response.read()
        except OSError as e:
            outcome["error"] = e

    poster = threading.Thread(target=post, daemon=True)
    poster.start()
    deadline = time.monotonic() + INVOKE_TIMEOUT
    while poster.is_alive():
        if function.poll() is not None:
            raise NoAnswer(f"exited ({function.returncode}): {last_log_line(log)}")
        if time.monotonic() > deadline:
            raise NoAnswer(f"no answer within {INVOKE_TIMEOUT} s: {last_log_line(log)}")
        poster.join(0.01)
    if "error" in outcome:
        raise NoAnswer(f"invocation failed ({outcome['error']}): {last_log_line(log)}")
    return outcome["answer"]


def vm_hwm_kb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def measure(name, event, bin_dir, cargo_lambda, endpoint):
    port = free_port()
    watch = subprocess.Popen(
        [cargo_lambda, "lambda", "watch", "--only-lambda-apis",
         "--invoke-address", "127.0.0.1", "--invoke-port", str(port)],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, watch, "cargo lambda watch")
        env = dict(
            os.environ,
            AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt",
            AWS_LAMBDA_FUNCTION_NAME="_",
            AWS_LAMBDA_FUNCTION_VERSION="1",
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE="256",
            PANTAU_BUCKET=BUCKET,
            PANTAU_TABLE=TABLE,
            PANTAU_CURSOR_KEY="a-startup-cursor-key-of-at-least-32-bytes",
            # The scraper's tick starts no source (there is no network here): what is
            # measured is its start-up, the registry sync and the state query.
            PANTAU_CYCLE_BUDGET_SECS="0",
            AWS_ENDPOINT_URL=endpoint,
            AWS_REGION="us-east-1",
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            RUST_LOG="info",
        )
        body = (ROOT / "functions" / name / "events" / event).read_bytes()
        # The function's log (JSON lines on stdout, start-up errors on stderr) goes to a file
        # rather than a pipe nobody reads, which would block it once full.
        log = tempfile.NamedTemporaryFile(prefix=f"pantau-startup-{name}-", suffix=".log")
        started = time.monotonic()
        function = subprocess.Popen(
            [str(Path(bin_dir) / name)], env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
        try:
            first = invoke(port, body, function, log)
            cold = time.monotonic() - started
            started = time.monotonic()
            invoke(port, body, function, log)
            warm = time.monotonic() - started
            hwm = vm_hwm_kb(function.pid)
        finally:
            function.kill()
            function.wait()
            log.close()
        return cold, warm, hwm, first[:80].decode("utf-8", "replace")
    finally:
        watch.kill()
        watch.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin-dir", required=True)
    parser.add_argument("--cargo-lambda", required=True)
    parser.add_argument("--moto-server", required=True)
    args = parser.parse_args()
    # A missing tool is a setup error, not a function that does not answer.
    for tool in (args.cargo_lambda, args.moto_server):
        if not os.access(tool, os.X_OK):
            sys.exit(f"{tool} is not an executable file (make test-setup installs it)")
    for name, _ in FUNCTIONS:
        if not os.access(Path(args.bin_dir) / name, os.X_OK):
            sys.exit(f"{Path(args.bin_dir) / name} is missing: cargo build -p pantau-{name}")

    moto_port = free_port()
    moto = subprocess.Popen(
        [args.moto_server, "-H", "127.0.0.1", "-p", str(moto_port)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(moto_port, moto, "moto_server")
        endpoint = f"http://127.0.0.1:{moto_port}"
        make_stores(endpoint)
        print(f"binaries: {args.bin_dir}")
        print(f"{'function':<10} {'cold ms':>8} {'warm ms':>8} {'peak RSS MB':>12}  first answer")
        failed = 0
        for name, event in FUNCTIONS:
            try:
                cold, warm, hwm, answer = measure(name, event, args.bin_dir, args.cargo_lambda, endpoint)
            except NoAnswer as e:  # say so, and measure the rest
                print(f"{name:<10} {e}")
                failed += 1
                continue
            print(f"{name:<10} {cold * 1000:>8.0f} {warm * 1000:>8.0f} {hwm / 1024:>12.1f}  {answer}")
        # The chain the sample events describe: normalize wrote the items object reconcile read.
        items_key = object_key_of(ROOT / "functions" / "reconcile" / "events" / "sqs-s3-items.json")
        if not object_exists(endpoint, items_key):
            print(f"normalize wrote no {items_key}: reconcile's figures are of a missing object")
            failed += 1
    finally:
        moto.kill()
        moto.wait()
    if failed:
        sys.exit(f"{failed} problem(s): see above")


if __name__ == "__main__":
    main()
