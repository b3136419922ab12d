#!/usr/bin/env python3
"""Seed inputs for fuzz_flow (tests/fuzz/fuzz_flow.c): every scenario's clean
conversation, and one edit of every kind at a few answers. The committed
corpus (tests/fuzz/corpus/fuzz_flow) grew from these by fuzzing and was
minimized with -merge=1.

    python3 tests/fuzz/flow_seeds.py OUTDIR
"""
import os
import sys

ED_COUNT = 22
ED_ALPN = 21
ED_JSON_RAW, ED_RAW = 4, 11


def edit(at, kind, a=0, b=0, raw=b""):
    if kind in (ED_JSON_RAW, ED_RAW):
        b = len(raw)
    return bytes([at, kind, a, b]) + raw


def main(out):
    os.makedirs(out, exist_ok=True)
    seeds = {}
    # scenario byte: bits 0-1 challenges, 2-4 operation, 5 ARI, 6 EAB, 7 one name
    for chall in range(4):
        for op in range(8):
            for flags in (0x20, 0x00, 0x40, 0x80):
                if flags != 0x20 and op not in (0, 1, 6, 7):
                    continue
                s = chall | (op << 2) | flags
                seeds["scen_%02x" % s] = bytes([s])
    for scen in (0x20, 0x22, 0x21):
        for kind in range(ED_COUNT):
            for at in (1, 4, 9):
                raw = b'{"status":"valid"}' if kind in (ED_JSON_RAW, ED_RAW) else b""
                seeds["s%02x_k%02d_at%d" % (scen, kind, at)] = bytes([scen]) + edit(at, kind, 3, 5, raw)
    for scen in (0x1a, 0x1e):  # the DNS server's answers (4: SOA or UPDATE)
        for kind in (0, 3, 5, 9, 10, 11, 13, 7, 8):
            for at in (4, 5, 6):
                raw = b"\x00\x01" if kind == 11 else b""
                seeds["dns%02x_k%02d_at%d" % (scen, kind, at)] = bytes([scen]) + edit(at, kind, 5, 2, raw)
    for scen in (0x20, 0x21, 0xA1):  # the appliance's own servers, at each step
        for at in range(2, 9):
            for a in (0, 4, 8, 16):
                seeds["adopt%02x_at%d_%d" % (scen, at, a)] = bytes([scen]) + edit(at, 17, a, 0 if a else 10)
    for off in (0, 8, 16, 24, 40, 64, 100, 200, 400, 800, 2048, 4096, 8192 + 8, 12288):
        for scen in (0x08, 0x24):  # a worn or half-written flash under ARI and a renewal
            seeds["flash%02x_%d" % (scen, off)] = bytes([scen]) + edit(1, 19, off >> 8, off & 255)
    seeds["wipe"] = bytes([0x00]) + edit(63, 19, 0x3f, 0xff)
    for io in range(12):  # every port fault at the account and at the certificate
        seeds["io%02d" % io] = bytes([0x20]) + edit(1, 18, io, 0) + edit(10, 18, io, 1)
        seeds["io%02d_tls" % io] = bytes([0x18]) + edit(2, 18, io, 0)
    for how in range(5):  # spoiled chains
        seeds["leaf%d" % how] = bytes([0x20]) + edit(11, 20, how, 0)
        seeds["leaf%d_one" % how] = bytes([0xA1]) + edit(8, 20, how, 0)
    for p in range(26):  # every problem type at finalize and at newOrder
        seeds["problem_%02d" % p] = bytes([0x20]) + edit(9, 8, p, 0x80) + edit(2, 8, p, 1)
    for op in (2, 3, 4, 5):  # lifecycle and ARI answers spoiled
        for kind in (0, 3, 8, 5):
            seeds["op%d_k%d" % (op, kind)] = bytes([0x20 | (op << 2)]) + edit(1, kind, 1, 2) + edit(2, kind, 2, 3)
    for scen in (0x21, 0x23, 0xA1, 0x09):  # the tls-alpn-01 server's port faults
        for a in range(5):
            for b in (0, 3):
                seeds["alpn%02x_%d_%d" % (scen, a, b)] = bytes([scen]) + edit(0, ED_ALPN, a, b)
    # a renewal that replaces: the CA says alreadyReplaced, or 409, to newOrder
    seeds["ari_replaced"] = bytes([0x24]) + edit(1, 8, 3, 0)
    seeds["ari_409"] = bytes([0x24]) + edit(1, 0, 10, 0)
    for a in range(16):  # the directory's renewalInfo URL spoiled: too long, empty, "http://"
        for b in (31, 0, 13):
            seeds["ari_dir_%d_%d" % (a, b)] = bytes([0x28]) + edit(0, 3, a, b)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1])
