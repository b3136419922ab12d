#!/usr/bin/env python3
"""Core footprint on Cortex-M3 for one build profile.

Compiles core/src/*.c and core_main.c with arm-none-eabi-gcc -Os, links with
--gc-sections (ports left undefined), and prints, as JSON: flash (.text +
.rodata) per core source file as linked, RAM (.data + .bss) of the core,
sizeof(picoacme_ctx_t), and the worst-case stack of the engine's entry points
from GCC's -fcallgraph-info=su (the longest call chain; calls through port
function pointers are not followed: a port's own stack comes on top).

usage: core_footprint.py REPO JSMN_DIR OUTDIR [-DNAME=VALUE ...]
"""
import json, os, re, subprocess, sys

repo, jsmn, out = sys.argv[1:4]
defs = sys.argv[4:]
os.makedirs(out, exist_ok=True)
inc = ["-I", f"{repo}/core/include/picoacme", "-I", jsmn]
flags = ["-mcpu=cortex-m3", "-mthumb", "-Os", "-std=c11", "-ffunction-sections",
         "-fdata-sections", "-fcallgraph-info=su"]
srcs = sorted(f"{repo}/core/src/{f}" for f in os.listdir(f"{repo}/core/src") if f.endswith(".c"))
srcs.append(f"{repo}/scripts/bench/core_main.c")
objs = []
for s in srcs:
    o = os.path.join(out, os.path.basename(s)[:-2] + ".o")
    subprocess.run(["arm-none-eabi-gcc", *flags, *defs, *inc, "-c", s, "-o", o],
                   check=True, cwd=out)
    objs.append(o)
elf, mp = os.path.join(out, "core.elf"), os.path.join(out, "core.map")
subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m3", "-mthumb", "--specs=nosys.specs",
                "-Wl,--gc-sections", "-Wl,--unresolved-symbols=ignore-all", f"-Wl,-Map={mp}",
                *objs, "-o", elf], check=True, stderr=subprocess.DEVNULL)

# flash and RAM per object, from the linker map (kept sections only)
flash, ram = {}, {}
started, pending = False, None
for line in open(mp):
    if line.startswith("Linker script and memory map"):
        started = True
        continue
    if not started:
        continue
    l = line.rstrip()
    m = re.match(r"^ (\.text|\.rodata|\.data|\.bss)(\S*)(?:\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+))?$", l)
    if m and m.group(5):
        sec, size, obj = m.group(1), int(m.group(4), 16), m.group(5)
    elif m:
        pending = m.group(1)
        continue
    else:
        m2 = re.match(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$", l)
        if not (m2 and pending):
            pending = None
            continue
        sec, size, obj = pending, int(m2.group(2), 16), m2.group(3)
        pending = None
    name = os.path.basename(obj)
    if not name.endswith(".o") or name == "core_main.o" or name.startswith("crt"):
        continue
    d = flash if sec in (".text", ".rodata") else ram
    d[name[:-2] + ".c"] = d.get(name[:-2] + ".c", 0) + size

# sizeof(picoacme_ctx_t): the value of the constant picoacme_ctx_size
nm = subprocess.run(["arm-none-eabi-objdump", "-s", "-j", ".rodata.picoacme_ctx_size",
                     os.path.join(out, "core_main.o")], capture_output=True, text=True).stdout
words = re.findall(r"^\s*0000 ([0-9a-f]{8})", nm, re.M)
ctx_size = int.from_bytes(bytes.fromhex(words[0]), "little") if words else None

# worst-case stack from the call graph
frames, edges = {}, {}
for f in os.listdir(out):
    if not f.endswith(".ci"):
        continue
    for line in open(os.path.join(out, f)):
        m = re.match(r'node: \{ title: "([^"]+)" label: "[^\\]*\\n[^\\]*\\n(\d+) bytes', line)
        if m:
            frames[m.group(1)] = int(m.group(2))
        m = re.match(r'edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"', line)
        if m:
            edges.setdefault(m.group(1), set()).add(m.group(2))
memo = {}
def depth(fn, seen=()):
    if fn in memo:
        return memo[fn]
    if fn in seen:
        raise SystemExit(f"recursion through {fn}")
    best = 0
    for t in edges.get(fn, ()):
        best = max(best, depth(t, seen + (fn,)))
    memo[fn] = frames.get(fn, 0) + best
    return memo[fn]
stack = {e: depth(e) for e in ("picoacme_step", "picoacme_issue_start", "picoacme_stored",
                                "picoacme_init")}
print(json.dumps({"flash": flash, "flash_total": sum(flash.values()),
                  "ram_total": sum(ram.values()), "ctx_size": ctx_size,
                  "stack": stack}, sort_keys=True))
