#!/usr/bin/env python3
"""zephyr_kconfig_check.py REPO OUTDIR - the Zephyr module's Kconfig
(zephyr/Kconfig, which sources the project's Kconfig) parsed by
python3-kconfiglib from a minimal Zephyr-like top Kconfig (the Zephyr
symbols it and the sample's prj.conf use, and the module menu Zephyr
generates from module.yml): zero warnings; the sample's prj.conf loads with
zero warnings and gives the same core options as the bare-metal image's
defconfig. Zephyr itself is not built. Exits 77 without kconfiglib."""
import os
import sys

try:
    import kconfiglib
except ImportError:
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import kconfiglib
    except ImportError:
        print("skipped: python3-kconfiglib is not installed")
        sys.exit(77)

repo, out = os.path.abspath(sys.argv[1]), sys.argv[2]
os.makedirs(out, exist_ok=True)
ZEPHYR_SYMS = ["NETWORKING", "NET_IPV4", "NET_TCP", "NET_UDP", "NET_DHCPV4", "NET_SOCKETS",
               "DNS_RESOLVER", "NET_L2_ETHERNET", "ETH_SMSC911X", "FLASH", "FLASH_MAP",
               "FLASH_SIMULATOR", "ENTROPY_GENERATOR", "TEST_RANDOM_GENERATOR", "CSPRNG_ENABLED",
               "WOLFSSL", "RTC"]
ZEPHYR_INTS = {"NET_SOCKETS_POLL_MAX": 3, "NET_MAX_CONTEXTS": 6, "NET_MAX_CONN": 4,
               "MAIN_STACK_SIZE": 1024, "HEAP_MEM_POOL_SIZE": 0}
top = [f'mainmenu "a minimal Zephyr-like Kconfig for picoacme\'s module"', ""]
for s in ZEPHYR_SYMS:
    top += [f"config {s}", f'\tbool "{s}"', ""]
for s, d in ZEPHYR_INTS.items():
    top += [f"config {s}", f'\tint "{s}"', f"\tdefault {d}", ""]
# what Zephyr writes into Kconfig.modules for a module with a kconfig: entry
top += ['menu "Modules"', "config ZEPHYR_PICOACME_MODULE", "\tbool", "\tdefault y",
        f'menu "picoacme ({repo})"', f'osource "{repo}/zephyr/Kconfig"', "endmenu", "endmenu", ""]
top_path = f"{out}/Kconfig.zephyr"
open(top_path, "w").write("\n".join(top))

bad = 0
kconf = kconfiglib.Kconfig(top_path, warn_to_stderr=False)
kconf.warn_assign_undef = True  # a misspelt symbol in prj.conf is a warning
for w in kconf.warnings:
    print(f"FAIL: warning: {w}")
    bad += 1
if "PICOACME" not in kconf.syms or "PICOACME_ZEPHYR_PORT" not in kconf.syms:
    print("FAIL: zephyr/Kconfig did not bring in PICOACME and PICOACME_ZEPHYR_PORT")
    sys.exit(1)
n = len([s for s in kconf.unique_defined_syms if s.name.startswith("PICOACME")])
print(f"ok: zephyr/Kconfig parsed, {n} PICOACME symbols, {len(kconf.warnings)} warnings")

prj = f"{repo}/platform/zephyr/enroll/prj.conf"
kconf.load_config(prj)
for w in kconf.warnings:
    print(f"FAIL: prj.conf: {w}")
    bad += 1
for name, want in (("PICOACME", "y"), ("PICOACME_ZEPHYR_PORT", "y"),
                   ("PICOACME_ZEPHYR_WOLFSSL", "y"), ("PICOACME_HTTP01", "y")):
    if kconf.syms[name].str_value != want:
        print(f"FAIL: prj.conf: {name}={kconf.syms[name].str_value}, expected {want}")
        bad += 1
# the same device profile as the bare-metal image
ref = kconfiglib.Kconfig(f"{repo}/Kconfig", warn_to_stderr=False)
ref.syms["PICOACME"].set_value(2)
ref.load_config(f"{repo}/platform/qemu-mps2/defconfig", replace=False)
for s in ref.unique_defined_syms:
    if s.name.startswith("PICOACME_") and kconf.syms[s.name].str_value != s.str_value:
        print(f"FAIL: prj.conf {s.name}={kconf.syms[s.name].str_value}, qemu-mps2 defconfig "
              f"{s.str_value}")
        bad += 1
if bad == 0:
    print("ok: platform/zephyr/enroll/prj.conf loads with no warning, same profile as qemu-mps2")
sys.exit(1 if bad else 0)
