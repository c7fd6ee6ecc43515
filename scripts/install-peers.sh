#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real: SIP peers, PostgreSQL, Chromium, tmux, wrk, nginx,
# prometheus (for promtool), tshark (reads the SIP trace pcaps).
# Idempotent: skips apt entirely when everything is already there.
set -euo pipefail
pkgs=(baresip-core kamailio sipsak postgresql chromium tmux wrk nginx-light prometheus tshark poppler-utils)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "peers installed: ${pkgs[*]}"
