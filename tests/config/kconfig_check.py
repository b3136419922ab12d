#!/usr/bin/env python3
"""kconfig_check.py REPO OUTDIR - Kconfig as the one source of the options.

1. Every sample defconfig (platform/*/defconfig) turns into an options
   header (scripts/kconfig_header.py) with no Kconfig warning, and the core
   compiles with it: -Wall -Wextra -Werror -Wconversion, every core/src file.
2. A defconfig that stands for a hand-written header (qemu-mps2:
   include/picoacme_fw_config.h) gives the same value for every option.
3. The Zephyr mapping header zephyr/picoacme_zephyr_config.h is what the
   script generates from today's Kconfig, and the core compiles through it
   from a Zephyr-like autoconf.h (CONFIG_PICOACME_* as Zephyr writes them).
Exits 77 when python3-kconfiglib is absent."""
import glob
import os
import re
import shutil
import subprocess
import sys

repo, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
gen = [sys.executable, f"{repo}/scripts/kconfig_header.py"]
cc = os.environ.get("CC", "cc")
bad = 0
opts = [m.group(1) for m in re.finditer(r"^config (PICOACME_\w+)",
                                         open(f"{repo}/Kconfig").read(), re.M)]

# hand-written headers a defconfig must match
TWINS = {"platform/qemu-mps2/defconfig": "platform/qemu-mps2/include/picoacme_fw_config.h"}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode == 77:
        print(r.stdout.strip())
        sys.exit(77)
    return r


def macros(config_file, extra=()):
    """The expanded value of every Kconfig option, as a unit that includes
    the defaults header with this PICOACME_CONFIG_FILE sees it."""
    src = f"{out}/probe.c"
    with open(src, "w") as f:
        f.write('#include "picoacme_config_defaults.h"\n')
        for o in opts:
            f.write(f'"{o}" = {o}\n')
    r = run([cc, "-E", "-P", f"-I{repo}/core/include/picoacme", *extra,
             f'-DPICOACME_CONFIG_FILE="{config_file}"', src])
    if r.returncode:
        print(r.stderr)
        sys.exit(1)
    vals = {m.group(1): m.group(2).strip() for m in re.finditer(r'"(\w+)" = (.*)', r.stdout)}
    if len(vals) != len(opts):
        print(f"FAIL: the probe saw {len(vals)} of {len(opts)} options")
        sys.exit(1)
    return vals


def norm(v):
    return v.rstrip("U")


def compile_core(tag, config_file, extra=()):
    global bad
    srcs = sorted(glob.glob(f"{repo}/core/src/*.c"))
    jsmn = f"{out}/jsmn"
    os.makedirs(jsmn, exist_ok=True)
    if os.path.exists("/usr/include/jsmn.h"):
        open(f"{jsmn}/jsmn.h", "w").write(open("/usr/include/jsmn.h").read())
    for s in srcs:
        r = run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wconversion", "-c", "-o",
                 os.devnull, f"-I{repo}/core/include/picoacme", f"-I{repo}/core/src", f"-I{jsmn}",
                 *extra, f'-DPICOACME_CONFIG_FILE="{config_file}"', s])
        if r.returncode:
            print(f"FAIL: {tag}: {os.path.basename(s)} does not compile:\n{r.stderr}")
            bad += 1
            return
    print(f"ok: {tag}: the core ({len(srcs)} files) compiles with -Werror -Wconversion")


for dc in sorted(glob.glob(f"{repo}/platform/*/defconfig")):
    rel = os.path.relpath(dc, repo)
    hdr = f"{out}/{rel.replace('/', '_')}.h"
    r = run(gen + ["--defconfig", dc, "--out", hdr])
    if r.returncode:
        print(f"FAIL: {rel}: {r.stderr.strip()}")
        bad += 1
        continue
    print(f"ok: {rel}: header generated, no Kconfig warning")
    compile_core(rel, hdr)
    if rel in TWINS:
        a, b = macros(hdr), macros(f"{repo}/{TWINS[rel]}")
        diff = [o for o in opts if norm(a.get(o, "?")) != norm(b.get(o, "?"))]
        for o in diff:
            print(f"FAIL: {rel}: {o} = {a.get(o)} but {TWINS[rel]} has {b.get(o)}")
        bad += len(diff)
        if not diff:
            print(f"ok: {rel} gives the same {len(opts)} options as {TWINS[rel]}")

# Zephyr: the committed mapping header is current and compiles the core
zhdr = f"{repo}/zephyr/picoacme_zephyr_config.h"
if os.path.exists(zhdr):
    fresh = f"{out}/picoacme_zephyr_config.h"
    run(gen + ["--zephyr", "--out", fresh])
    if not shutil.which("clang-format"):
        print("skipped: the staleness check of the Zephyr header (no clang-format)")
    elif open(fresh).read() != open(zhdr).read():
        print("FAIL: zephyr/picoacme_zephyr_config.h is stale: "
              "scripts/kconfig_header.py --zephyr --out zephyr/picoacme_zephyr_config.h")
        bad += 1
    else:
        print("ok: zephyr/picoacme_zephyr_config.h matches Kconfig")
    for dc in sorted(glob.glob(f"{repo}/platform/*/defconfig")) + [None]:
        tag = f"zephyr mapping ({os.path.relpath(dc, repo) if dc else 'Kconfig defaults'})"
        cfg, want_h = f"{out}/zephyr.config", f"{out}/zephyr-want.h"
        run(gen + (["--defconfig", dc] if dc else []) + ["--out", want_h, "--config", cfg])
        # autoconf.h as Zephyr writes it: y -> 1, n absent, ints as numbers
        lines = ["/* a Zephyr-like autoconf.h */"]
        for ln in open(cfg):
            m = re.match(r"CONFIG_(\w+)=(.*)", ln.strip())
            if m:
                v = "1" if m.group(2) == "y" else m.group(2)
                lines.append(f"#define CONFIG_{m.group(1)} {v}")
        ac = f"{out}/autoconf.h"
        open(ac, "w").write("\n".join(lines) + "\n")
        compile_core(tag, zhdr, ["-include", ac])
        z, want = macros(zhdr, ["-include", ac]), macros(want_h)
        diff = [o for o in opts if norm(z.get(o, "?")) != norm(want.get(o, "?"))]
        bad += len(diff)
        for o in diff:
            print(f"FAIL: {tag}: {o} = {z.get(o)}, kconfig_header.py says {want.get(o)}")
        if not diff:
            print(f"ok: {tag}: the same {len(opts)} options as the generated header")
else:
    print("FAIL: no zephyr/picoacme_zephyr_config.h")
    bad += 1

print(f"{bad} problems")
sys.exit(1 if bad else 0)
