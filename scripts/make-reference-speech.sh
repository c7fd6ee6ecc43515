#!/usr/bin/env bash
# Regenerates callmeter_tui/probes/assets/reference_speech.wav, the speech a test call plays and ViSQOL
# scores against. Only needed to regenerate it (the WAV is committed and ships in the package): it needs
# Debian's flite (apt-get install --no-install-recommends flite). Voice cmu_us_slt (16 kHz, wideband),
# flite 2.2, CMU's permissive licence (see /usr/share/doc/flite/copyright); the sentences are Harvard
# sentences (IEEE 1969 recommended practice, list 1). The generated WAV is part of callmeter-tui
# (GPL-2.0-or-later).
set -euo pipefail
out="$(dirname "$0")/../callmeter_tui/probes/assets/reference_speech.wav"
text="The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. \
It is easy to tell the depth of a well. These days a chicken leg is a rare dish."
flite -voice slt -t "$text" -o "$out"
echo "$out"
