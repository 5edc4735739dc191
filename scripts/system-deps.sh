#!/usr/bin/env bash
# Installs the system packages the test suite needs. Run by `make test`; idempotent.
# In CI (CI=true) a package that cannot be installed fails the run.
set -euo pipefail

needed=(faketime gnupg)
missing=()
for pkg in "${needed[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system-deps: missing ${missing[*]} and not root; install them first" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
