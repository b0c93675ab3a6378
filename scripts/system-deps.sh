#!/usr/bin/env bash
# System packages the tests need, installed only when missing: a C compiler and mbedTLS for the
# firmware's host tests, the RV32 cross toolchain, picolibc and QEMU for the firmware images run
# on an emulated board, make for the README's commands, Chromium for the browser tests, clang-format
# for the firmware's C style (make -C firmware format-check).
set -euo pipefail
need=()
for pkg in gcc make libmbedtls-dev gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf qemu-system-misc \
  chromium clang-format; do
  # "install ok installed": a removed package whose config files remain still answers dpkg -s
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -q
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi
