"""The measures of `faceemo shift` in numpy, SciPy and scikit-learn, exactly as
docs/shift-measures.md defines them.

Shared by scripts/make_shift_reference.py (the reference values the Rust tests compare
against) and benches/shift_vs_sklearn.py (the benchmark peer), so both compute the very same
thing. Nothing here prints; `shift_report` and `compare_selections` return dictionaries with
the JSON layout of `faceemo shift --json`.
"""
import csv
import os
import time
from contextlib import contextmanager

import numpy as np
from scipy.linalg import sqrtm
from scipy.spatial.distance import pdist, squareform
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score, roc_auc_score, silhouette_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# The release's default label order (logit columns 0..6).
LABELS = ["anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"]
# The spellings faceemo_data recognises (crates/faceemo_data/src/labels.rs), to canonical names.
SPELLINGS = {
    "anger": "anger", "angry": "anger", "disgust": "disgust", "disgusted": "disgust",
    "fear": "fear", "fearful": "fear", "afraid": "fear", "scared": "fear",
    "happiness": "happiness", "happy": "happiness", "joy": "happiness",
    "neutral": "neutral", "calm": "neutral", "sadness": "sadness", "sad": "sadness",
    "surprise": "surprise", "surprised": "surprise",
}
SPLITS = ["train", "val", "test_fer2013", "test_affectnet"]
BINS = 15
NEIGHBOURS = 10
FOLDS = 5
PERMUTATIONS = 1000
C = 1.0
TOL = 1e-8
MAX_ITER = 10000
# Timed parts of the report, in the order the benchmark prints them.
PARTS = ["metrics", "centroid+frechet", "mmd", "domain auc", "probe", "neighbourhood", "silhouette"]


class SplitMix64:
    """The generator of crates/faceemo_jobs (as in scripts/make_vit_reference.py)."""
    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next_u64(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)


def sample_rows(n, count, seed):
    """`count` of `range(n)` by a partial Fisher-Yates shuffle with SplitMix64, sorted."""
    count = min(count, n)
    indices = list(range(n))
    rng = SplitMix64(seed)
    for i in range(count):
        j = i + rng.next_u64() % (n - i)
        indices[i], indices[j] = indices[j], indices[i]
    return sorted(indices[:count])


class ShiftData:
    """The measurable rows of a release, in release order (splits in release order, rows in
    file order): features (float32), truth (label column, -1 when unknown), prediction,
    confidence (float64), dataset (index into the byte-sorted dataset_names), split (index into
    split_names) and source_row (row in its split's NPZ)."""

    def __init__(self, features, truth, predicted, confidence, dataset, split, source_row,
                 dataset_names, split_names, label_names=LABELS):
        self.features = features
        self.truth = truth
        self.predicted = predicted
        self.confidence = confidence
        self.dataset = dataset
        self.split = split
        self.source_row = source_row
        self.dataset_names = dataset_names
        self.split_names = split_names
        self.label_names = list(label_names)

    def rows_of_dataset(self, d):
        return np.flatnonzero(self.dataset == d)

    def lab_row(self, split_name, row):
        """The index among the measured rows of `row` of split `split_name`."""
        s = self.split_names.index(split_name)
        found = np.flatnonzero((self.split == s) & (self.source_row == row))
        if len(found) != 1:
            raise KeyError(f"{split_name} row {row} is not measured")
        return int(found[0])


def split_of(csv_split, dataset):
    """faceemo_data's SplitKind::from_metadata: a plain `test` goes by dataset."""
    split = csv_split.strip().lower()
    if split == "test":
        name = dataset.strip().lower()
        if name == "fer2013":
            return "test_fer2013"
        if name == "affectnet":
            return "test_affectnet"
    return split


def load_release(folder):
    """Reads a release folder (the four NPZ files and combined_vit_metadata_all.csv): the
    metadata rows whose valid_image is true join their split's NPZ rows in file order; rows
    with a NaN or infinity (features, logits or probs) are left out."""
    by_split = {}
    with open(os.path.join(folder, "combined_vit_metadata_all.csv"), newline="") as source:
        for record in csv.DictReader(source):
            if record["valid_image"].strip().lower() != "true":
                continue
            split = split_of(record["Split"], record["Dataset"])
            by_split.setdefault(split, []).append((record["Dataset"].strip(), record["Emotion"]))
    arrays, meta, split_names = [], [], []
    for split in SPLITS:
        path = os.path.join(folder, f"combined_vit_features_{split}.npz")
        if not os.path.exists(path) or split not in by_split:
            continue
        with np.load(path) as npz:
            f, l, p = (np.asarray(npz[k], dtype=np.float32) for k in ("features", "logits", "probs"))
        rows = by_split[split]
        if len(rows) != len(f):
            raise ValueError(f"{split}: {len(rows)} valid metadata rows for {len(f)} feature rows")
        split_names.append(split)
        arrays.append((f, l, p))
        meta.append(rows)
    dataset_names = sorted({d for rows in meta for d, _ in rows}, key=lambda s: s.encode())
    index = {name: i for i, name in enumerate(dataset_names)}
    column = {name: i for i, name in enumerate(LABELS)}
    parts = {k: [] for k in ("features", "truth", "pred", "conf", "dataset", "split", "row")}
    for s, ((f, l, p), rows) in enumerate(zip(arrays, meta)):
        keep = np.flatnonzero(np.isfinite(f).all(1) & np.isfinite(l).all(1) & np.isfinite(p).all(1))
        parts["features"].append(f[keep])
        parts["pred"].append(np.argmax(l[keep], axis=1))
        parts["conf"].append(p[keep].max(axis=1).astype(np.float64))
        parts["truth"].append(np.array(
            [column.get(SPELLINGS.get(rows[r][1].strip().lower(), ""), -1) for r in keep], dtype=np.int64))
        parts["dataset"].append(np.array([index[rows[r][0]] for r in keep], dtype=np.int64))
        parts["split"].append(np.full(len(keep), s, dtype=np.int64))
        parts["row"].append(keep.astype(np.int64))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    return ShiftData(cat["features"], cat["truth"], cat["pred"], cat["conf"], cat["dataset"],
                     cat["split"], cat["row"], dataset_names, split_names)


# ---------------------------------------------------------------- per group metrics

def calibration_bin(confidence):
    """Bin i holds (i/15, (i+1)/15]; 0 goes to bin 0."""
    return np.clip(np.ceil(confidence * BINS).astype(np.int64) - 1, 0, BINS - 1)


def ratio(a, b):
    return float(a) / float(b) if b > 0 else None


def group_metrics(data, rows, label_names=None):
    """The figures M of the labelled rows among `rows` (indices into data)."""
    names = label_names or data.label_names
    classes = len(names)
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[data.truth[rows] >= 0]
    truth, pred, conf = data.truth[rows], data.predicted[rows], data.confidence[rows]
    n = len(rows)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(confusion, (truth, pred), 1)
    actual = confusion.sum(axis=1)
    correct = truth == pred
    bins = calibration_bin(conf)
    count = np.bincount(bins, minlength=BINS)
    hits = np.bincount(bins, weights=correct, minlength=BINS)
    conf_sum = np.bincount(bins, weights=conf, minlength=BINS)
    reliability = [{
        "lower": b / BINS, "upper": (b + 1) / BINS, "count": int(count[b]),
        "accuracy": ratio(hits[b], count[b]),
        "confidence": float(conf_sum[b] / count[b]) if count[b] else None,
    } for b in range(BINS)]
    ece = None
    if n:
        ece = float(sum(count[b] / n * abs(hits[b] / count[b] - conf_sum[b] / count[b])
                        for b in range(BINS) if count[b]))
    return {
        "rows": n,
        "accuracy": float(correct.mean()) if n else None,
        "macro_f1": float(f1_score(truth, pred, labels=list(range(classes)), average="macro",
                                   zero_division=0)) if n else None,
        "ece": ece,
        "per_class_recall": {names[c]: ratio(confusion[c, c], actual[c]) for c in range(classes)},
        "confusion": confusion.tolist(),
        "class_counts": {names[c]: int(actual[c]) for c in range(classes)},
        "reliability": reliability,
        "confidence_histogram": {
            "correct": [int(h) for h in hits],
            "incorrect": [int(count[b] - hits[b]) for b in range(BINS)],
        },
    }


# ---------------------------------------------------------------- pair measures

def gaussian_fit(x):
    """Mean and covariance (n - 1; None under 2 rows) of float32 rows, in float64."""
    x = np.asarray(x, dtype=np.float64)
    return x.mean(axis=0), (np.cov(x, rowvar=False) if len(x) >= 2 else None)


def centroid_distances(mean_a, mean_b):
    cosine = 1.0 - float(mean_a @ mean_b) / (np.linalg.norm(mean_a) * np.linalg.norm(mean_b))
    return cosine, float(np.linalg.norm(mean_a - mean_b))


def frechet(fit_a, fit_b):
    (mu_a, s_a), (mu_b, s_b) = fit_a, fit_b
    if s_a is None or s_b is None:
        return None
    diff = mu_a - mu_b
    covmean = sqrtm(s_a @ s_b)
    return float(diff @ diff + np.trace(s_a) + np.trace(s_b) - 2.0 * np.trace(covmean).real)


def mmd_test(za, zb, permutations, rng):
    """Unbiased MMD^2 (Gaussian kernel, median heuristic over scipy's pdist) and its
    permutation p-value; (None, None) when a side has under 2 rows or sigma is 0."""
    m, n = len(za), len(zb)
    if m < 2 or n < 2:
        return None, None
    z = np.concatenate([za, zb]).astype(np.float64)
    distances = pdist(z)
    sigma = float(np.median(distances))
    if not sigma > 0:
        return None, None
    kernel = squareform(np.exp(-distances ** 2 / (2.0 * sigma * sigma)))
    np.fill_diagonal(kernel, 1.0)  # exp(0); left out of the within sums below anyway

    def mmd2(inside, row_total, total):
        # inside = a'Ka, row_total = a'K1 for the indicator a of the first side (m rows).
        within_a = inside - m
        within_b = total - 2.0 * row_total + inside - n
        between = row_total - inside
        return within_a / (m * (m - 1)) + within_b / (n * (n - 1)) - 2.0 * between / (m * n)

    row_sums = kernel.sum(axis=1)
    total = row_sums.sum()
    observed = mmd2(kernel[:m, :m].sum(), row_sums[:m].sum(), total)
    beats = 0
    block = 250
    for start in range(0, permutations, block):
        size = min(block, permutations - start)
        indicator = np.zeros((m + n, size))
        for p in range(size):
            indicator[rng.permutation(m + n)[:m], p] = 1.0
        inside = np.einsum("ip,ip->p", indicator, kernel @ indicator)
        row_total = row_sums @ indicator
        beats += int(np.count_nonzero(mmd2(inside, row_total, total) >= observed))
    return float(observed), (1 + beats) / (1 + permutations)


def domain_auc(za, zb, max_iter=MAX_ITER):
    """Out-of-fold ROC AUC of StandardScaler + LogisticRegression telling A (0) from B (1)."""
    if min(len(za), len(zb)) < FOLDS:
        return None
    x = np.concatenate([za, zb])
    y = np.r_[np.zeros(len(za), dtype=int), np.ones(len(zb), dtype=int)]
    scores = np.zeros(len(y))
    for train, test in StratifiedKFold(FOLDS).split(x, y):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=max_iter, tol=TOL))
        model.fit(x[train], y[train])
        scores[test] = model.decision_function(x[test])
    return float(roc_auc_score(y, scores))


@contextmanager
def timed(timings, part):
    start = time.perf_counter()
    yield
    if timings is not None:
        timings[part] = timings.get(part, 0.0) + time.perf_counter() - start


def pair_measures(data, fit_a, fit_b, sample_a, sample_b, rng, permutations, max_iter, timings=None):
    """Every pair measure of two groups: Gaussian fits of all their rows, samples (row indices)."""
    with timed(timings, "centroid+frechet"):
        cosine, euclidean = centroid_distances(fit_a[0], fit_b[0])
        distance = frechet(fit_a, fit_b)
    za, zb = data.features[sample_a], data.features[sample_b]
    with timed(timings, "mmd"):
        mmd2, p = mmd_test(za, zb, permutations, rng)
    with timed(timings, "domain auc"):
        auc = domain_auc(za, zb, max_iter)
    return {"centroid_cosine": cosine, "centroid_euclidean": euclidean, "frechet": distance,
            "mmd2": mmd2, "mmd_p": p, "domain_auc": auc}


# ---------------------------------------------------------------- probe, neighbours, silhouettes

def probe_matrix(data, max_iter=MAX_ITER):
    """probe[A][B]: accuracy on B's labelled rows outside the train split of a multinomial
    logistic regression fitted on A's labelled train rows (absent without 2 train classes)."""
    if "train" not in data.split_names:
        return {}
    train = data.split_names.index("train")
    labelled = data.truth >= 0
    held_out = {d: np.flatnonzero((data.dataset == d) & (data.split != train) & labelled)
                for d in range(len(data.dataset_names))}
    matrix = {}
    for d, name in enumerate(data.dataset_names):
        rows = np.flatnonzero((data.dataset == d) & (data.split == train) & labelled)
        if len(np.unique(data.truth[rows])) < 2:
            continue
        scaler = StandardScaler().fit(data.features[rows])
        model = LogisticRegression(C=C, max_iter=max_iter, tol=TOL)
        model.fit(scaler.transform(data.features[rows]), data.truth[rows])
        matrix[name] = {
            data.dataset_names[b]: float(np.mean(
                model.predict(scaler.transform(data.features[held])) == data.truth[held]))
            for b, held in held_out.items() if len(held)
        }
    return matrix


def unit_rows(x, dtype):
    x = np.asarray(x, dtype=dtype)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1)


def nearest_neighbours(data, queries, k=NEIGHBOURS, dtype=np.float64, block=512):
    """The k cosine nearest rows (itself excluded) of each query row: (len(queries), k)."""
    unit = unit_rows(data.features, dtype)
    out = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), block):
        chunk = queries[start:start + block]
        similarity = unit[chunk] @ unit.T
        similarity[np.arange(len(chunk)), chunk] = -np.inf
        out[start:start + len(chunk)] = np.argpartition(-similarity, k - 1, axis=1)[:, :k]
    return out


def neighbourhood_shares(data, queries, dtype=np.float64):
    """Per query row: share of its neighbours with its truth (nan if unlabelled), its dataset."""
    found = nearest_neighbours(data, queries, dtype=dtype)
    same_dataset = (data.dataset[found] == data.dataset[queries][:, None]).mean(axis=1)
    same_truth = (data.truth[found] == data.truth[queries][:, None]).mean(axis=1)
    same_truth[data.truth[queries] < 0] = np.nan
    return same_truth, same_dataset


def silhouette(x, labels):
    distinct = len(np.unique(labels))
    if distinct < 2 or distinct > len(labels) - 1:
        return None
    return float(silhouette_score(np.asarray(x, dtype=np.float64), labels, metric="cosine"))


# ---------------------------------------------------------------- the whole report

def mean_or_none(values):
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else None


def shift_report(data, sample=1000, seed=0, permutations=PERMUTATIONS, max_iter=MAX_ITER,
                 knn_dtype=np.float64, timings=None):
    """The report of `faceemo shift --json` (less sampling, notes and seconds), and the
    sampled rows per dataset as indices within that dataset's rows."""
    names = data.dataset_names
    with timed(timings, "metrics"):
        members = [data.rows_of_dataset(d) for d in range(len(names))]
        per_dataset = {name: group_metrics(data, rows) for name, rows in zip(names, members)}
        per_split = {}
        for s, split in sorted(enumerate(data.split_names), key=lambda e: e[1]):
            for name, rows in zip(names, members):
                in_split = rows[data.split[rows] == s]
                if len(in_split):
                    per_split.setdefault(split, {})[name] = group_metrics(data, in_split)
    picked = [sample_rows(len(rows), sample, seed + d) for d, rows in enumerate(members)]
    samples = [rows[p] for rows, p in zip(members, picked)]
    with timed(timings, "centroid+frechet"):
        fits = [gaussian_fit(data.features[rows]) for rows in members]
    pairwise = {name: {} for name in names}
    for a in range(len(names)):
        for b in range(a + 1, len(names)):
            rng = np.random.default_rng([seed, a, b])
            measures = pair_measures(data, fits[a], fits[b], samples[a], samples[b], rng,
                                     permutations, max_iter, timings)
            pairwise[names[a]][names[b]] = measures
            pairwise[names[b]][names[a]] = dict(measures)
    with timed(timings, "probe"):
        probe = probe_matrix(data, max_iter)
    queries = np.concatenate(samples)
    with timed(timings, "neighbourhood"):
        same_truth, same_dataset = neighbourhood_shares(data, queries, knn_dtype)
        neighbourhood, offset = {}, 0
        for name, rows in zip(names, samples):
            own = slice(offset, offset + len(rows))
            offset += len(rows)
            neighbourhood[name] = {"same_emotion": mean_or_none(same_truth[own]),
                                   "same_dataset": mean_or_none(same_dataset[own])}
    with timed(timings, "silhouette"):
        pooled = data.features[queries]
        labelled = data.truth[queries] >= 0
        scores = {"by_dataset": silhouette(pooled, data.dataset[queries]),
                  "by_emotion": silhouette(pooled[labelled], data.truth[queries][labelled])}
    report = {
        "label_order": list(data.label_names),
        "per_dataset": dict(sorted(per_dataset.items())),
        "per_split": per_split,
        "pairwise": {a: dict(sorted(row.items())) for a, row in sorted(pairwise.items())},
        "probe": {a: dict(sorted(row.items())) for a, row in sorted(probe.items())},
        "neighbourhood": dict(sorted(neighbourhood.items())),
        "silhouette": scores,
    }
    return report, {name: [int(i) for i in p] for name, p in zip(names, picked)}


def compare_selections(data, rows_a, rows_b, sample=1000, seed=0, permutations=PERMUTATIONS,
                       max_iter=MAX_ITER):
    """Selection A against selection B (measured-row indices; sorted and deduplicated as the
    Rust side does): each side's figures and the pair measures, A sampled with `seed`, B with
    `seed + 1`."""
    rows_a, rows_b = np.unique(rows_a), np.unique(rows_b)
    sample_a = rows_a[sample_rows(len(rows_a), sample, seed)]
    sample_b = rows_b[sample_rows(len(rows_b), sample, seed + 1)]
    pair = pair_measures(data, gaussian_fit(data.features[rows_a]), gaussian_fit(data.features[rows_b]),
                         sample_a, sample_b, np.random.default_rng([seed, 1 << 20]), permutations, max_iter)
    return {"a": group_metrics(data, rows_a), "b": group_metrics(data, rows_b), "pair": pair}
