"""A small HTTP load generator: N client threads, each with its own keep-alive HTTP/1.1 connection.

Each client takes the next request from a shared list and sends it, until the list is used up or the
time is up, whichever comes first; so a run is bounded in both and always stops by itself. Latency is
measured per request from just before sending to the last byte of the response, on the client.

Used by bench/run.py; also runs on its own against any URL, for trying things by hand:

    .venv/bin/python bench/load.py --clients 8 --seconds 10 --requests 5000 \\
        -H "Authorization: Bearer TOKEN" http://127.0.0.1:8000/api/patients?nhs_number=9434765919

Threads rather than asyncio: http.client is plain and well understood, and a thread spends nearly all
its time blocked in the kernel waiting for the server, where it holds no lock any other thread wants.
"""

import argparse
import http.client
import itertools
import math
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

# A transport failure (refused, reset, timed out) is recorded with this status.
TRANSPORT_ERROR = 0
DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    # Headers of this request alone (say, the token of the user it acts as), over the run's own.
    headers: tuple[tuple[str, str], ...] = ()
    # Why this request was made, for whoever reads the outcomes (say, which slot it tried to book).
    tag: object = None


@dataclass(frozen=True)
class Outcome:
    request: Request
    status: int  # TRANSPORT_ERROR when no response arrived
    latency_ns: int
    body: bytes = b""
    error: str = ""


@dataclass
class LoadResult:
    clients: int
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed_seconds: float = 0.0
    stopped_by: str = ""  # "requests" (the list was used up) or "time"

    @property
    def statuses(self) -> Counter:
        return Counter(outcome.status for outcome in self.outcomes)

    @property
    def throughput(self) -> float:
        answered = sum(1 for outcome in self.outcomes if outcome.status != TRANSPORT_ERROR)
        return answered / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    def percentile_ms(self, fraction: float) -> float:
        """Nearest-rank percentile of the latency of answered requests, in milliseconds."""
        latencies = sorted(outcome.latency_ns for outcome in self.outcomes if outcome.status != TRANSPORT_ERROR)
        if not latencies:
            return float("nan")
        rank = max(1, min(len(latencies), math.ceil(fraction * len(latencies))))
        return latencies[rank - 1] / 1e6


def run_load(
    *,
    host: str,
    port: int,
    requests: Sequence[Request],
    clients: int,
    max_seconds: float,
    headers: dict[str, str] | None = None,
    start_together: bool = False,
    keep_bodies: bool = False,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> LoadResult:
    """Send `requests` from `clients` threads; stop when all are sent or `max_seconds` have passed.

    start_together: every client connects first and the first requests leave at once (a race).
    keep_bodies: keep each response body in its Outcome (else only the status and the latency).
    """
    base_headers = {
        "Host": f"{host}:{port}",
        "Connection": "keep-alive",
        "Accept": "application/json",
        **(headers or {}),
    }
    # itertools.count hands out each index once, even to threads calling it together (it runs in C).
    next_index = itertools.count()
    ready = threading.Barrier(clients + 1) if start_together else None
    per_client: list[list[Outcome]] = [[] for _ in range(clients)]
    deadline = 0.0  # set just before the clients are released

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=timeout)
        mine = per_client[number]
        try:
            if ready is not None:
                try:
                    connection.connect()
                finally:
                    ready.wait()
            while time.monotonic() < deadline:
                index = next(next_index)
                if index >= len(requests):
                    return
                mine.append(_send(connection, requests[index], base_headers, keep_bodies))
        finally:
            connection.close()

    threads = [
        threading.Thread(target=client, args=(number,), name=f"load-client-{number}", daemon=True)
        for number in range(clients)
    ]
    deadline = time.monotonic() + max_seconds
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    if ready is not None:
        ready.wait()
        started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    outcomes = [outcome for mine in per_client for outcome in mine]
    return LoadResult(
        clients=clients,
        outcomes=outcomes,
        elapsed_seconds=elapsed,
        stopped_by="requests" if len(outcomes) >= len(requests) else "time",
    )


def _send(
    connection: http.client.HTTPConnection, request: Request, headers: dict[str, str], keep_body: bool
) -> Outcome:
    request_headers = {**headers, **dict(request.headers)}
    if request.body is not None:
        request_headers["Content-Type"] = "application/json"
    began = time.perf_counter_ns()
    try:
        # A server that closed the connection after its last answer (gunicorn's sync workers always
        # do) makes http.client open a new one here, which is then part of this request's latency.
        connection.request(request.method, request.path, body=request.body, headers=request_headers)
        response = connection.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException) as error:
        connection.close()  # start afresh on the next request
        return Outcome(
            request, TRANSPORT_ERROR, time.perf_counter_ns() - began, error=f"{type(error).__name__}: {error}"
        )
    latency = time.perf_counter_ns() - began
    return Outcome(request, response.status, latency, body if keep_body or response.status >= 500 else b"")


def wait_until_answering(host: str, port: int, path: str, seconds: float) -> bool:
    """True once GET `path` answers 200, False if it has not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection = http.client.HTTPConnection(host, port, timeout=2)
        try:
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        time.sleep(0.2)
    return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description="Send one request over and over from N keep-alive clients.")
    parser.add_argument("url", help="http://HOST:PORT/PATH?QUERY")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=1000, help="at most this many requests (default 1000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most this long (default 10)")
    parser.add_argument("--method", default="GET")
    parser.add_argument("--data", help="a request body (JSON)")
    parser.add_argument("-H", "--header", action="append", default=[], help="NAME: VALUE (repeatable)")
    args = parser.parse_args(argv)
    url = urlsplit(args.url)
    if url.scheme != "http" or not url.hostname:
        parser.error("the URL must be http://HOST[:PORT]/...")
    headers = dict(line.split(":", 1) for line in args.header)
    headers = {name.strip(): value.strip() for name, value in headers.items()}
    path = url.path + (f"?{url.query}" if url.query else "")
    body = args.data.encode() if args.data else None
    result = run_load(
        host=url.hostname,
        port=url.port or 80,
        clients=args.clients,
        max_seconds=args.seconds,
        requests=[Request(args.method, path, body)] * args.requests,
        headers=headers,
    )
    statuses = ", ".join(f"{status or 'transport error'}: {count}" for status, count in sorted(result.statuses.items()))
    print(
        f"{len(result.outcomes)} requests in {result.elapsed_seconds:.2f} s ({result.throughput:.1f}/s), "
        f"stopped by {result.stopped_by}; {statuses}"
    )
    print(
        f"p50 {result.percentile_ms(0.50):.1f} ms  p95 {result.percentile_ms(0.95):.1f} ms  "
        f"p99 {result.percentile_ms(0.99):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
