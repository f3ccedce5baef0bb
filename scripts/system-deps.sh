#!/usr/bin/env bash
# System packages the test suite uses, installed from Debian's archive when missing:
#   PostgreSQL server binaries (initdb, pg_ctl) - the suite starts its own throwaway server as user postgres;
#   LibreOffice (headless) and poppler-utils   - reports are opened and rendered to PDF/PNG;
#   openssh-client (ssh-keygen)                 - certificates are verified exactly as an evaluator would;
#   tmux                                        - the terminal UI is driven as a person would.
# As root it installs them with apt-get; otherwise it says which are missing and how to get them.
set -euo pipefail
need=()
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v soffice >/dev/null || need+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v ssh-keygen >/dev/null || need+=(openssh-client)
command -v tmux >/dev/null || need+=(tmux)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing system packages: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "missing system packages: ${need[*]}" >&2
  echo "install them (Debian/Ubuntu: sudo apt-get install ${need[*]}), or run MOU_TEST_PG=off make test-fast" >&2
  exit 1
fi
