#!/usr/bin/env bash
# Runs the test suite with the machine's clock moved ahead and in another time zone, to prove that no test
# and no code path depends on today's date or the machine's time zone (the app reads time from its injected
# clock, and the demo data is placed around it).
#
# The Node processes (vitest, its workers and the servers tests start) see the shifted clock through
# libfaketime (apt-get install faketime). PostgreSQL keeps the real time: anything the app compares with its
# own clock must be written from that clock, not from the database's now(), and this run catches it.
#
#   scripts/test-shifted-clock.sh                      # the whole suite, +400 days, America/New_York
#   scripts/test-shifted-clock.sh test/catalogue       # only some files (vitest filters)
#   SHIFT_CLOCK='+800 days' SHIFT_TZ=Asia/Dhaka scripts/test-shifted-clock.sh
#
# Needs TEST_DATABASE_URL and TEST_REDIS_URL as `npm test` does. Extra arguments go to `vitest run`.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v faketime >/dev/null 2>&1; then
  echo "faketime is not installed (Debian/Ubuntu: apt-get install -y faketime)" >&2
  exit 2
fi

shift_by="${SHIFT_CLOCK:-+400 days}"
export TZ="${SHIFT_TZ:-America/New_York}"

# Prove the shift reaches Node before spending minutes on the suite.
shifted_year=$(faketime "$shift_by" node -e 'process.stdout.write(String(new Date().getFullYear()))')
echo "clock shifted by ${shift_by} (Node sees the year ${shifted_year}), TZ=${TZ}"

exec faketime "$shift_by" npx vitest run "$@"
