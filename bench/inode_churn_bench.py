#!/usr/bin/env python3
"""What creating a call's spool costs the filesystem: per call directory, one mkdir and two new
files (session.jsonl, media.spool — what an INVITE creates), timed over 1,000 calls, first in a
fresh directory, then after deleting 3,000 / 10,000 / 30,000 inodes nearby (what the finalizer
does to every finished call's spool). On ext4 without a journal, inode allocation skips every
inode freed in the last 5 s (305 s while its inode-table block is dirty), so the cost grows with
the deletions; a journaled ext4 or tmpfs does not care (docs/performance.md §SIPREC setup rate).

Usage: bench/inode_churn_bench.py [--dir /tmp] [--calls 1000]
Prints microseconds per call directory; asserts nothing.
"""
import argparse
import os
import shutil
import tempfile
import time


def create(dirname, n):
    os.makedirs(dirname, exist_ok=True)
    t = time.perf_counter()
    for i in range(n):
        d = f"{dirname}/c{i}"
        os.mkdir(d)
        for name in ("session.jsonl", "media.spool"):
            os.close(os.open(f"{d}/{name}", os.O_CREAT | os.O_WRONLY, 0o644))
    return (time.perf_counter() - t) / n * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=None)
    ap.add_argument("--calls", type=int, default=1000)
    args = ap.parse_args()
    base = tempfile.mkdtemp(prefix="inode-churn-", dir=args.dir)
    try:
        print(f"filesystem of {base}:")
        for deleted in (0, 3000, 10000, 30000):
            if deleted:
                create(f"{base}/junk{deleted}", deleted // 3)
                shutil.rmtree(f"{base}/junk{deleted}")
            us = create(f"{base}/r{deleted}", args.calls)
            print(f"  after deleting {deleted:6d} inodes: {us:7.0f} us per call directory "
                  f"(mkdir + 2 files)", flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
