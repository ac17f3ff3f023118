#!/usr/bin/env python3
"""Start-up time and memory of each Lambda function under cargo lambda watch's emulator.

For each function: `cargo lambda watch --only-lambda-apis` serves Lambda's runtime API on
loopback, the function's binary is started against it (as Lambda starts `bootstrap`), and its
sample event (functions/FN/events/) is posted to the emulator's invoke API twice:
- cold: from starting the process to the answer (process start, init, first event);
- warm: the second event alone;
- peak RSS: the process's VmHWM (/proc/PID/status) after both.
The functions' stores are moto's S3 and DynamoDB on loopback (a bucket and a table made here).

The binaries are host builds (`cargo build [--release] -p pantau-FN`), not the arm64 zips,
which this x86_64 machine cannot run: the figures are for this machine's cores.

usage: scripts/startup.py --bin-dir DIR --cargo-lambda PATH --moto-server PATH
"""

import argparse
import json
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


def make_stores(endpoint):
    import boto3  # moto's venv has it

    kw = dict(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    boto3.client("s3", **kw).create_bucket(Bucket=BUCKET)
    attrs = ["pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"]
    gsi = lambda n: {
        "IndexName": f"gsi{n}",
        "KeySchema": [
            {"AttributeName": f"gsi{n}pk", "KeyType": "HASH"},
            {"AttributeName": f"gsi{n}sk", "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
    boto3.client("dynamodb", **kw).create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attrs],
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        GlobalSecondaryIndexes=[gsi(1), gsi(2)],
    )


def invoke(port, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/2015-03-31/functions/_/invocations",
        data=body,
        method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read()


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
            RUST_LOG="warn",
        )
        body = (ROOT / "functions" / name / "events" / event).read_bytes()
        started = time.monotonic()
        function = subprocess.Popen(
            [str(Path(bin_dir) / name)], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            first = invoke(port, body)
            cold = time.monotonic() - started
            started = time.monotonic()
            invoke(port, body)
            warm = time.monotonic() - started
            hwm = vm_hwm_kb(function.pid)
        finally:
            function.kill()
            function.wait()
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
        for name, event in FUNCTIONS:
            try:
                cold, warm, hwm, answer = measure(name, event, args.bin_dir, args.cargo_lambda, endpoint)
            except OSError as e:  # a function that never answers: say so, measure the rest
                print(f"{name:<10} no answer within 30 s ({e})")
                continue
            print(f"{name:<10} {cold * 1000:>8.0f} {warm * 1000:>8.0f} {hwm / 1024:>12.1f}  {answer}")
    finally:
        moto.kill()
        moto.wait()


if __name__ == "__main__":
    main()
