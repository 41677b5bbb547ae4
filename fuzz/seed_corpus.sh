#!/usr/bin/env bash
# Writes the seed corpora of every fuzz target from the committed fixtures (valid and
# broken files) into fuzz/seeds/<target>/. The campaign (fuzz/campaign.sh) reads them
# beside the committed, minimised corpora in fuzz/corpus/<target>/.
# Usage: fuzz/seed_corpus.sh
set -euo pipefail
cd "$(dirname "$0")"
fixtures=../tests/fixtures
rm -rf seeds
mkdir -p seeds
python3 - "$fixtures" <<'PY'
import glob, json, os, struct, sys
fixtures = sys.argv[1]
def put(target, name, data):
    os.makedirs(f"seeds/{target}", exist_ok=True)
    with open(f"seeds/{target}/{name}", "wb") as f:
        f.write(data)
def read(path):
    with open(path, "rb") as f:
        return f.read()

npz = sorted(glob.glob(f"{fixtures}/data/*/*.npz"))
csv = sorted(glob.glob(f"{fixtures}/data/*/*.csv")) + sorted(glob.glob(f"{fixtures}/shift/*.csv"))
for path in npz:
    put("npz_reader", os.path.basename(os.path.dirname(path)) + "_" + os.path.basename(path), read(path))
for path in csv:
    put("metadata_reader", os.path.basename(os.path.dirname(path)) + "_" + os.path.basename(path), read(path))

# release_folder: metadata CSV, then up to two NPZ splits, joined by the target's separator.
sep = b"--faceemo-file--"
release = f"{fixtures}/data/release"
meta = read(f"{release}/combined_vit_metadata_all.csv")
train = read(f"{release}/combined_vit_features_train.npz")
test = read(f"{release}/combined_vit_features_test_fer2013.npz")
put("release_folder", "release", meta + sep + train + sep + test)
put("release_folder", "no_metadata", b"" + sep + train)
for path in npz:
    put("release_folder", "split_" + os.path.basename(path), meta + sep + read(path))

for folder in sorted(glob.glob(f"{fixtures}/models/*")):
    name = os.path.basename(folder)
    config = read(f"{folder}/config.json")
    pre = f"{folder}/preprocessor_config.json"
    put("model_config", name, config + (b"\0" + read(pre) if os.path.exists(pre) else b""))
    for weights, kind in (("model.safetensors", b"\0"), ("pytorch_model.bin", b"\1")):
        path = f"{folder}/{weights}"
        if os.path.exists(path) and os.path.getsize(path) < 131072:
            put("weights_reader", f"{name}_{weights}", kind + read(path))

for path in sorted(glob.glob(f"{fixtures}/images/*")):
    put("image_decode", os.path.basename(path), read(path))

# map_cache: a valid two-row map and a few near misses (the first byte is the target's skew).
header = b"FEMAP\0\0\x01" + struct.pack("<IQd", 1, 2, 1.25)
layout = struct.pack("<4f", 0.5, -1.0, 2.0, 3.0)
put("map_cache", "valid", b"\1" + header + layout)
put("map_cache", "truncated", b"\1" + header + layout[:5])
put("map_cache", "other_rows", b"\0" + header + layout)

put("settings_file", "default",
    b'(recent_sources:[["/data/release"]],model:Some("jihedjabnoun/faceemo-set"),backend:"auto",'
    b'colouring:Dataset,point_radius:1,inversion_steps:200,until_cosine:None)')
put("settings_file", "hostile", b'(point_radius:100000,inversion_steps:1000000000000,until_cosine:Some(NaN),backend:"tpu")')

commit = "0123456789abcdef0123456789abcdef01234567"
put("hub_listing", "release", json.dumps({
    "id": "jihedjabnoun/faceemo-set-features", "sha": commit,
    "siblings": [
        {"rfilename": "README.md", "size": 12, "blobId": commit},
        {"rfilename": "combined_vit_features_train.npz", "size": 1284, "blobId": commit,
         "lfs": {"sha256": "ab" * 32, "size": 1284, "pointerSize": 134}},
        {"rfilename": "combined_vit_metadata_all.csv"},
    ]}).encode())
put("hub_listing", "escape", json.dumps({"sha": commit, "siblings": [{"rfilename": "../x"}]}).encode())
PY
for target in seeds/*; do
    echo "$(basename "$target"): $(ls "$target" | wc -l) seeds"
done
