#!/usr/bin/env bash
# Runs the test suite with the clock a year ahead in another time zone (see with-shifted-clock.sh).
#
#   scripts/test-shifted-clock.sh                      # the whole suite, +400 days, America/New_York
#   scripts/test-shifted-clock.sh test/catalogue       # only some files (vitest filters)
#
# Needs TEST_DATABASE_URL and TEST_REDIS_URL as `npm test` does. Extra arguments go to `vitest run`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/with-shifted-clock.sh npx vitest run "$@"
