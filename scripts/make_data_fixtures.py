#!/usr/bin/env python3
"""Writes the small NPZ/CSV fixtures of the data-layer tests with numpy itself.

The fixtures are committed (tests/fixtures/data/); rerun this script only to change
them: `python3 scripts/make_data_fixtures.py`. Every array holds the same reference
values, REFERENCE below, so a test can check that each storage variant reads back
identically.

- release/            a tiny valid release: four splits + metadata + summary
- variants/           one split stored every way numpy can store it
- broken/             one broken input per failure the reader must report, and the
                      hostile ones of issue 13 (`--hostile` rewrites only those)
"""
import io
import os
import shutil
import zipfile

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "data")
ROWS, DIM, CLASSES = 6, 8, 7


def reference(rows=ROWS, dim=DIM, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(rows, dim)).astype(np.float32)
    logits = rng.normal(size=(rows, CLASSES)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return features, logits, probs.astype(np.float32)


def write_release(folder):
    os.makedirs(folder, exist_ok=True)
    splits = {"train": 6, "val": 3, "test_fer2013": 2, "test_affectnet": 2}
    meta = ["sample_id,Dataset,Emotion,Split,valid_image"]
    emotions = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]
    for index, (split, rows) in enumerate(splits.items()):
        f, l, p = reference(rows, DIM, seed=index)
        np.savez(os.path.join(folder, f"combined_vit_features_{split}.npz"), features=f, logits=l, probs=p)
        if split == "train":
            # An invalid image has a metadata row but no feature row.
            meta.append("train_invalid,FER2013,happy,train,False")
        for row in range(rows):
            if split == "test_fer2013":
                dataset, csv_split = "FER2013", "test"
            elif split == "test_affectnet":
                dataset, csv_split = "AffectNet", "test"
            else:
                dataset = ["FaceEmo-Set", "FER2013", "RAF-DB", "RAVDESS"][row % 4]
                csv_split = split
            emotion = emotions[int(np.argmax(l[row]))] if row % 3 else emotions[(row + 1) % 7]
            meta.append(f"{split}_{row},{dataset},{emotion},{csv_split},True")
    with open(os.path.join(folder, "combined_vit_metadata_all.csv"), "w") as out:
        out.write("\n".join(meta) + "\n")
    with open(os.path.join(folder, "combined_vit_feature_summary.csv"), "w") as out:
        out.write("split,rows,feature_dim\n")
        for split, rows in splits.items():
            out.write(f"{split},{rows},{DIM}\n")


def write_variants(folder):
    os.makedirs(folder, exist_ok=True)
    f, l, p = reference()
    np.savez(os.path.join(folder, "stored.npz"), features=f, logits=l, probs=p)
    np.savez_compressed(os.path.join(folder, "deflated.npz"), features=f, logits=l, probs=p)
    np.savez(os.path.join(folder, "fortran.npz"), features=np.asfortranarray(f),
             logits=np.asfortranarray(l), probs=np.asfortranarray(p))
    np.savez(os.path.join(folder, "big_endian.npz"), features=f.astype(">f4"),
             logits=l.astype(">f4"), probs=p.astype(">f4"))
    np.savez(os.path.join(folder, "float64.npz"), features=f.astype(np.float64),
             logits=l.astype(np.float64), probs=p.astype(np.float64))
    np.savez(os.path.join(folder, "float16.npz"), features=f.astype(np.float16),
             logits=l, probs=p)
    ids = np.array([f"id_{i}" for i in range(ROWS)])
    np.savez(os.path.join(folder, "with_ids.npz"), features=f, logits=l, probs=p, sample_id=ids)
    np.savez(os.path.join(folder, "with_int_ids.npz"), features=f, logits=l, probs=p,
             sample_ids=np.arange(ROWS, dtype=np.int64) - 2)
    with_nan = f.copy()
    with_nan[1, 3] = np.nan
    with_nan[4, 0] = np.inf
    np.savez(os.path.join(folder, "with_nan.npz"), features=with_nan, logits=l, probs=p)
    with open(os.path.join(folder, "reference_features.txt"), "w") as out:
        out.write("\n".join(" ".join(repr(float(x)) for x in row) for row in f) + "\n")


def write_broken(folder):
    os.makedirs(folder, exist_ok=True)
    f, l, p = reference()
    good = io.BytesIO()
    np.savez(good, features=f, logits=l, probs=p)
    data = good.getvalue()
    with open(os.path.join(folder, "truncated.npz"), "wb") as out:
        out.write(data[: len(data) // 2])
    open(os.path.join(folder, "empty.npz"), "wb").close()
    with open(os.path.join(folder, "not_zip.npz"), "w") as out:
        out.write("features,logits\n1,2\n")
    with zipfile.ZipFile(os.path.join(folder, "member_not_npy.npz"), "w") as z:
        z.writestr("features.npy", b"this is not a numpy array")
        z.writestr("logits.npy", b"")
        z.writestr("probs.npy", b"")
    np.savez(os.path.join(folder, "wrong_dtype.npz"), features=f.astype(np.int32), logits=l, probs=p)
    np.savez(os.path.join(folder, "mismatched_rows.npz"), features=f, logits=l[:-1], probs=p)
    np.savez(os.path.join(folder, "missing_logits.npz"), features=f, probs=p)
    np.savez(os.path.join(folder, "one_dimensional.npz"), features=f.ravel(), logits=l, probs=p)
    np.savez(os.path.join(folder, "zero_rows.npz"), features=f[:0], logits=l[:0], probs=p[:0])
    # A member whose header promises more data than it holds (a cut .npy inside a valid zip).
    npy = io.BytesIO()
    np.save(npy, f)
    with zipfile.ZipFile(os.path.join(folder, "short_member.npz"), "w") as z:
        z.writestr("features.npy", npy.getvalue()[:-40])
        for name, array in (("logits", l), ("probs", p)):
            buffer = io.BytesIO()
            np.save(buffer, array)
            z.writestr(f"{name}.npy", buffer.getvalue())
    header = "sample_id,Dataset,Emotion,Split,valid_image\n"
    with open(os.path.join(folder, "missing_column.csv"), "w") as out:
        out.write("sample_id,Dataset,Split,valid_image\na,FER2013,train,True\n")
    with open(os.path.join(folder, "not_utf8.csv"), "wb") as out:
        out.write(header.encode() + b"a,FER2013,happy,train,True\nb,Caf\xe9,sad,train,True\n")
    with open(os.path.join(folder, "duplicate_ids.csv"), "w") as out:
        out.write(header + "a,FER2013,happy,train,True\nb,FER2013,sad,train,True\na,RAF-DB,sad,val,True\n")
    open(os.path.join(folder, "empty.csv"), "w").close()


def write_hostile(folder):
    """Inputs made by a hostile or careless hand (issue 13); `--hostile` writes only these."""
    os.makedirs(folder, exist_ok=True)
    f, l, p = reference()
    header = "sample_id,Dataset,Emotion,Split,valid_image\n"
    with open(os.path.join(folder, "header_only.csv"), "w") as out:
        out.write(header)
    # Windows line ends and a quoted field holding a newline and a comma.
    with open(os.path.join(folder, "crlf_quoted.csv"), "wb") as out:
        out.write(header.replace("\n", "\r\n").encode()
                  + b'a,"RAF-DB\r\n(second line), more",happy,train,True\r\n'
                  + b"b,FER2013,sad,train,True\r\n")
    # Object arrays are pickles: numpy writes them, the reader must refuse them.
    np.savez(os.path.join(folder, "object_dtype.npz"),
             features=np.array([[1.0, "x"]] * ROWS, dtype=object), logits=l, probs=p)
    # Two members of the same name: which one is meant cannot be told.
    npy = {}
    for name, array in (("features", f), ("logits", l), ("probs", p)):
        buffer = io.BytesIO()
        np.save(buffer, array)
        npy[name] = buffer.getvalue()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(os.path.join(folder, "duplicate_members.npz"), "w") as z:
            z.writestr("features.npy", npy["features"])
            z.writestr("features.npy", npy["features"])
            z.writestr("logits.npy", npy["logits"])
            z.writestr("probs.npy", npy["probs"])
    # An encrypted member: the general-purpose flag's bit 0 set in both headers (Python
    # cannot write ZipCrypto; the reader must refuse the flag, not the cipher).
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as z:
        for name, data in npy.items():
            z.writestr(f"{name}.npy", data)
    data = bytearray(plain.getvalue())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_offset] |= 1
            at = data.find(signature, at + 4)
    with open(os.path.join(folder, "encrypted.npz"), "wb") as out:
        out.write(bytes(data))
    np.savez(os.path.join(folder, "wrong_length_ids.npz"), features=f, logits=l, probs=p,
             sample_ids=np.array([f"id_{i}" for i in range(ROWS - 1)]))


def main():
    import sys
    if sys.argv[1:] == ["--hostile"]:
        write_hostile(os.path.join(ROOT, "broken"))
        return
    if os.path.isdir(ROOT):
        shutil.rmtree(ROOT)
    write_release(os.path.join(ROOT, "release"))
    write_variants(os.path.join(ROOT, "variants"))
    write_broken(os.path.join(ROOT, "broken"))
    write_hostile(os.path.join(ROOT, "broken"))
    print(f"fixtures written to {os.path.normpath(ROOT)}")


if __name__ == "__main__":
    main()
