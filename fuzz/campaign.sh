#!/usr/bin/env bash
# The fuzzing campaign: every target in turn, in slices, on WORKERS processes at the lowest
# priority (builds and the desktop go first), until MINUTES of wall time have passed.
# Limits as issue 13 sets them: 2 GB of memory, 10 s per input. Each slice appends one line
# to fuzz/campaign.tsv: date, target, wall seconds, CPU seconds, runs, coverage, features,
# corpus size, new crash/timeout/oom artifacts, peak RSS. Artifacts land in
# fuzz/artifacts/<target>/. Afterwards `fuzz/campaign.sh --minimise` merges each corpus
# into the small one committed under fuzz/corpus/<target>/, and `fuzz/campaign.sh --summary`
# prints the totals per target from every slice's libFuzzer log (fuzz/logs/).
# Usage: fuzz/campaign.sh MINUTES [WORKERS] [SLICE_SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
bin=target/x86_64-unknown-linux-gnu/release
all_targets=(npz_reader metadata_reader release_folder model_config weights_reader image_decode map_cache settings_file hub_listing)

max_len() {
    case "$1" in
        weights_reader | image_decode) echo 131072 ;;
        npz_reader | release_folder) echo 65536 ;;
        metadata_reader | hub_listing) echo 16384 ;;
        *) echo 8192 ;;
    esac
}
# Leak checking is off where the code under test starts threads (the release loader's
# readers, Burn's pools): LeakSanitizer then reports glibc's per-thread destructor list
# (32 bytes from __cxa_thread_atexit_impl), which is not ours and not a leak.
extra_args() {
    case "$1" in
        npz_reader) echo "-dict=npy.dict" ;;
        release_folder) echo "-dict=npy.dict -detect_leaks=0" ;;
        weights_reader) echo "-detect_leaks=0" ;;
        *) echo "" ;;
    esac
}

if [[ "${1:-}" == "--minimise" ]]; then
    for target in "${all_targets[@]}"; do
        [[ -d "work/$target" ]] || continue
        rm -rf "corpus/$target.new" && mkdir -p "corpus/$target.new"
        "$bin/$target" -merge=1 -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$target")" \
            "corpus/$target.new" "corpus/$target" "work/$target" seeds/"$target" >"logs/merge-$target.log" 2>&1
        rm -rf "corpus/$target" && mv "corpus/$target.new" "corpus/$target"
        echo "$target: $(ls "corpus/$target" | wc -l) inputs, $(du -sh "corpus/$target" | cut -f1)"
    done
    exit 0
fi

if [[ "${1:-}" == "--summary" ]]; then
    python3 - <<'PY'
import glob, os, re
totals = {}
for log in sorted(glob.glob("logs/*.log")):
    name = os.path.basename(log)
    if name.startswith("merge-"):
        continue
    target = re.match(r"(.+?)-\d+-\d+-\d+\.log$", name).group(1)
    text = open(log, errors="replace").read()
    def last(pattern, default=0):
        found = re.findall(pattern, text)
        return int(found[-1]) if found else default
    t = totals.setdefault(target, dict(slices=0, wall=0, cpu=0.0, runs=0, cov=0, ft=0, rss=0, slowest=0, crashes=0))
    t["slices"] += 1
    t["wall"] += last(r"Done \d+ runs in (\d+) second")
    try:
        user, system = open(log + ".time").read().split()[:2]
        t["cpu"] += float(user) + float(system)
    except (OSError, ValueError):
        pass
    t["runs"] += last(r"stat::number_of_executed_units: *(\d+)")
    t["cov"] = max(t["cov"], last(r"cov: (\d+)"))
    t["ft"] = max(t["ft"], last(r"ft: (\d+)"))
    t["rss"] = max(t["rss"], last(r"stat::peak_rss_mb: *(\d+)"))
    t["slowest"] = max(t["slowest"], last(r"stat::slowest_unit_time_sec: *(\d+)"))
    t["crashes"] += len(re.findall(r"==\d+== ?ERROR|SUMMARY: libFuzzer|deadly signal", text))
print("| target | slices | wall s | CPU s | runs | coverage (cov / ft) | corpus (minimised) | slowest input s | peak RSS MB | crashes, timeouts, OOM |")
print("|---|---|---|---|---|---|---|---|---|---|")
sums = [0, 0, 0.0, 0]
for target, t in sorted(totals.items()):
    corpus = len(os.listdir(f"corpus/{target}")) if os.path.isdir(f"corpus/{target}") else 0
    print(f"| {target} | {t['slices']} | {t['wall']} | {t['cpu']:.0f} | {t['runs']:,} | {t['cov']} / {t['ft']} | {corpus} | {t['slowest']} | {t['rss']} | {t['crashes']} |")
    sums[0] += t["slices"]; sums[1] += t["wall"]; sums[2] += t["cpu"]; sums[3] += t["runs"]
print(f"| all | {sums[0]} | {sums[1]} ({sums[1]/3600:.2f} h) | {sums[2]:.0f} ({sums[2]/3600:.2f} h) | {sums[3]:,} | | | | | |")
PY
    exit 0
fi

minutes="${1:?usage: fuzz/campaign.sh MINUTES [WORKERS] [SLICE_SECONDS] [TARGET...]}"
workers="${2:-2}"
slice="${3:-600}"
shift $(( $# < 3 ? $# : 3 ))
targets=("${@:-${all_targets[@]}}")
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")

cargo +nightly fuzz build -O >/dev/null
[[ -d seeds ]] || ./seed_corpus.sh >/dev/null
mkdir -p logs work artifacts corpus
[[ -f campaign.tsv ]] || printf 'date\ttarget\twall_s\tcpu_s\truns\tcov\tft\tcorpus\tartifacts\tpeak_rss_mb\n' >campaign.tsv
deadline=$(( $(date +%s) + minutes * 60 ))

run_slice() {
    local target="$1" seconds="$2"
    mkdir -p "work/$target" "corpus/$target" "artifacts/$target"
    local log="logs/$target-$(date +%s)-$$-$RANDOM.log"
    local before; before=$(ls "artifacts/$target" | wc -l)
    local start; start=$(date +%s)
    # CPU seconds of the slice: user + system time of the fuzzer, as /usr/bin/time counts them.
    /usr/bin/time -f '%U %S' -o "$log.time" nice -n 19 "$bin/$target" "work/$target" "corpus/$target" "seeds/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -max_len="$(max_len "$target")" \
        -artifact_prefix="artifacts/$target/" -print_final_stats=1 $(extra_args "$target") >"$log" 2>&1 || true
    local wall=$(( $(date +%s) - start ))
    local cpu; cpu=$(awk '{printf "%.0f", $1 + $2}' "$log.time" 2>/dev/null || echo 0)
    local runs; runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
    local rss; rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{print $2}' | tail -1)
    local cov; cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    local ft; ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | awk '{print $2}')
    local corpus; corpus=$(ls "work/$target" | wc -l)
    local after; after=$(ls "artifacts/$target" | wc -l)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$target" "$wall" "$cpu" \
        "${runs:-0}" "${cov:-0}" "${ft:-0}" "$corpus" "$(( after - before ))" "${rss:-0}" >>campaign.tsv
}

worker() {
    local offset="$1" index="$1"
    while (( $(date +%s) + 60 < deadline )); do
        local left=$(( deadline - $(date +%s) ))
        local target="${targets[$(( index % ${#targets[@]} ))]}"
        run_slice "$target" $(( left < slice ? left : slice ))
        index=$(( index + workers ))
    done
}

for (( w = 0; w < workers; w++ )); do
    worker "$w" &
done
wait
column -t campaign.tsv | tail -n $(( ${#targets[@]} * 2 ))
