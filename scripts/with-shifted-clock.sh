#!/usr/bin/env bash
# Runs a command with the machine's clock moved ahead and in another time zone, to prove that nothing depends
# on today's date or the machine's zone. Every process the command starts sees the shifted clock through
# libfaketime (apt-get install faketime); PostgreSQL keeps the real time, so anything the app compares with
# its own clock must have been written from that clock, not from the database's now().
#
#   scripts/with-shifted-clock.sh npm test                          # +400 days, America/New_York
#   SHIFT_CLOCK='+800 days' SHIFT_TZ=Asia/Dhaka scripts/with-shifted-clock.sh npm test
set -euo pipefail

if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime is not installed (Debian/Ubuntu: apt-get install -y faketime)" >&2
  exit 2
fi

shift_by="${SHIFT_CLOCK:-+400 days}"
export TZ="${SHIFT_TZ:-America/New_York}"

# Prove the shift reaches Node before spending minutes on the command.
shifted_year=$(faketime "$shift_by" node -e 'process.stdout.write(String(new Date().getFullYear()))')
echo "clock shifted by ${shift_by} (Node sees the year ${shifted_year}), TZ=${TZ}"

exec faketime "$shift_by" "$@"
