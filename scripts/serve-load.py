#!/usr/bin/env python3
"""Latency and throughput of `nn serve`'s POST /api/predict, beside `nn predict` on the same picture.

    scripts/serve-load.py [--nn target/release/nn] [--model model.json] [--requests 2000]
                          [--clients 1,8,32]

Starts `nn serve --port 0 --model MODEL`, draws MNIST test digit 0 as a 112x112 PNG (pure
Python, no packages), sends it REQUESTS times from each number of concurrent clients (one
keep-alive connection each) and prints the median and 99th-percentile latency and the requests
per second; then times `nn predict MODEL` on the same picture (a process per picture) as the
peer. Without --model it trains one first (nn train, 5,000 images, 1 epoch).
"""

import argparse
import gzip
import http.client
import os
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib


def png_of_digit(mnist, index=0, scale=4):
    with gzip.open(os.path.join(mnist, "t10k-images-idx3-ubyte.gz")) as f:
        data = f.read()
    pixels = data[16 + 784 * index: 16 + 784 * (index + 1)]
    rows = b"".join(
        b"\x00" + bytes(255 - pixels[(y // scale) * 28 + x // scale] for x in range(28 * scale))
        for y in range(28 * scale))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    side = 28 * scale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def load(host, port, body, requests, clients):
    latencies, errors = [], []
    lock = threading.Lock()
    per_client = requests // clients

    def client():
        conn = http.client.HTTPConnection(host, port, timeout=60)
        mine = []
        for _ in range(per_client):
            start = time.perf_counter()
            conn.request("POST", "/api/predict", body, {"Content-Type": "image/png"})
            reply = conn.getresponse()
            reply.read()
            mine.append(time.perf_counter() - start)
            if reply.status != 200:
                errors.append(reply.status)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        sys.exit(f"error: {len(errors)} requests failed, e.g. HTTP {errors[0]}")
    latencies.sort()
    return (statistics.median(latencies) * 1e3, latencies[int(0.99 * (len(latencies) - 1))] * 1e3,
            len(latencies) / elapsed)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nn", default="target/release/nn")
    parser.add_argument("--model")
    parser.add_argument("--data", default=os.environ.get("MNIST_DIR", "../shared/data/mnist"))
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", default="1,8,32")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="nn-serve-load-")
    model = args.model
    if model is None:
        model = os.path.join(work, "model.json")
        subprocess.run([args.nn, "train", "--data", args.data, "--train-size", "5000", "--epochs", "1",
                        "--quiet", "--save", model], check=True, stdout=subprocess.DEVNULL)
    body = png_of_digit(args.data)
    picture = os.path.join(work, "digit.png")
    with open(picture, "wb") as f:
        f.write(body)
    server = subprocess.Popen([args.nn, "serve", "--port", "0", "--model", model, "--data", args.data],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = server.stdout.readline().split()[1]
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        load(host, int(port), body, 100, 1)  # warm up
        for clients in [int(c) for c in args.clients.split(",")]:
            median, p99, rate = load(host, int(port), body, args.requests, clients)
            print(f"POST /api/predict, {clients:>2} clients: median {median:.2f} ms, "
                  f"p99 {p99:.2f} ms, {rate:.0f} requests/s")
    finally:
        server.terminate()
        server.wait()
    runs = 20
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run([args.nn, "predict", model, picture], check=True, stdout=subprocess.DEVNULL)
    per = (time.perf_counter() - start) / runs * 1e3
    print(f"nn predict (a process per picture): {per:.2f} ms")


if __name__ == "__main__":
    main()
