#!/usr/bin/env bash
# Seeds the fuzz corpora with the committed fixtures (valid and broken), then runs each
# target for a bounded time. Usage: fuzz/seed_corpus.sh [SECONDS_PER_TARGET]
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-240}"
mkdir -p corpus/npz_reader corpus/metadata_reader
cp ../tests/fixtures/data/*/*.npz corpus/npz_reader/
cp ../tests/fixtures/data/*/*.csv corpus/metadata_reader/
for target in npz_reader metadata_reader; do
    cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536
done
