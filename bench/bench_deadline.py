"""How long an AWS call against a hung endpoint takes to fail, with a simulated Lambda deadline.

`.venv/bin/python bench/bench_deadline.py`: a server on 127.0.0.1 that accepts and never answers;
a Lambda context with 3 s remaining; the boto3-free client and a boto3 client each make one call.
Prints seconds to the failure next to the budget (remaining time less ``deadline.MARGIN``): the
tests in tests/functional/deadline check what happens; this prints how long it takes.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[1] / "layers" / "auth_core")]

from auth_core import aws, deadline  # noqa: E402
from auth_core.aws_json import AwsJsonClient  # noqa: E402

REMAINING = 3.0


class Context:
    def __init__(self) -> None:
        self.until = time.monotonic() + REMAINING

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.until - time.monotonic()) * 1000))


def silent_server() -> str:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    threading.Thread(
        target=lambda: [held.append(listener.accept()[0]) for _ in range(16)], daemon=True
    ).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def timed(call) -> float:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    with deadline.scope(Context()), contextlib.suppress(Exception):  # the failure is the point
        call()
    return time.monotonic() - started


def main() -> None:
    url = silent_server()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    os.environ["AWS_ENDPOINT_URL"] = url
    lean = AwsJsonClient("dynamodb", endpoint=url)
    budget = REMAINING - deadline.MARGIN
    print(f"hung endpoint, {REMAINING:.1f} s of Lambda time left, budget {budget:.1f} s")
    print(f"  boto3-free client: failed after {timed(lambda: lean.call('GetItem', {})):.2f} s")
    ddb = aws.client("dynamodb")
    seconds = timed(lambda: ddb.get_item(TableName="t", Key={"pk": {"S": "x"}}))
    print(f"  boto3 client:      failed after {seconds:.2f} s")


if __name__ == "__main__":
    main()
