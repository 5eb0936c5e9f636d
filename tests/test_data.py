"""Tests of coursepkg.data: download/cache/checksums, IDX parsing, MNIST, toy sets, text."""

from __future__ import annotations

import gzip
import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from coursepkg.data import (
    FASHION_MNIST_CLASSES,
    REGISTRY,
    CharVocab,
    ChecksumError,
    DataNotFoundError,
    IDXFormatError,
    RemoteFile,
    blobs,
    cache_dir,
    circles,
    download,
    fetch,
    fetch_many,
    k_fold_splits,
    load_fashion_mnist,
    load_mnist,
    load_tiny_shakespeare,
    logic_gate,
    moons,
    read_idx,
    regression_1d,
    spirals,
)

PAYLOAD = bytes(range(256)) * 40  # 10,240 bytes: more than one read() chunk when chunks are small


# --------------------------------------------------------------------------- download / cache


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty cache, no COURSEPKG_DATA, a fresh verification memo, and two toy registry files."""
    monkeypatch.setenv("COURSEPKG_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSEPKG_DATA", raising=False)
    monkeypatch.setattr(download, "_verified", set())
    monkeypatch.setattr(download, "_CHUNK", 1000)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    files = {}
    for name, payload in (("toy/a.bin", PAYLOAD), ("toy/b.bin", PAYLOAD[::-1] + b"xyz")):
        src = mirror / name.replace("/", "_")
        src.write_bytes(payload)
        entry = RemoteFile(name, len(payload), hashlib.sha256(payload).hexdigest(),
                           ("file://" + str(tmp_path / "nowhere" / "x.bin"), src.as_uri()))
        monkeypatch.setitem(REGISTRY, name, entry)
        files[name] = entry
    return tmp_path, files


class CountingOpener:
    """urllib's opener that records the URLs it was asked for (and can be told to fail)."""

    def __init__(self, fail: Exception | None = None):
        self.urls, self.fail = [], fail

    def __call__(self, url, timeout):
        self.urls.append(url)
        if self.fail is not None:
            raise self.fail
        return urllib.request.urlopen(url, timeout=timeout)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_registry_matches_the_shared_data_layout():
    assert len(REGISTRY) == 9
    assert {r.split("/")[0] for r in REGISTRY} == {"mnist", "fashion-mnist", "tinyshakespeare.txt"}
    for relpath, entry in REGISTRY.items():
        assert entry.relpath == relpath and len(entry.sha256) == 64 and entry.size > 0
        assert entry.urls and all(u.startswith(("http://", "https://")) for u in entry.urls)
    assert REGISTRY["tinyshakespeare.txt"].size == 1_115_394


def test_cache_dir_env_and_default(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEPKG_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("COURSEPKG_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir().name == "coursepkg"


def test_download_falls_back_to_next_mirror_and_verifies(env):
    tmp_path, files = env
    opener = CountingOpener()
    path = fetch("toy/a.bin", opener=opener, progress=False)
    assert path == tmp_path / "cache" / "toy" / "a.bin"
    assert path.read_bytes() == PAYLOAD
    assert opener.urls == list(files["toy/a.bin"].urls)  # first mirror failed, second used
    assert leftovers(tmp_path / "cache") == ["a.bin"]  # no temporary file left behind
    # second call: found in the cache, no download
    assert fetch("toy/a.bin", opener=opener, progress=False) == path
    assert len(opener.urls) == 2


def test_urls_argument_overrides_registry(env):
    tmp_path, files = env
    good = files["toy/a.bin"].urls[1]
    opener = CountingOpener()
    fetch("toy/a.bin", urls=[good], opener=opener, progress=False)
    assert opener.urls == [good]


@pytest.mark.parametrize("bad, reason", [
    (b"\0" * len(PAYLOAD), "SHA-256"),
    (PAYLOAD[:-1], "downloaded 10,239 bytes, expected 10,240"),
])
def test_checksum_or_size_mismatch_leaves_no_file(env, monkeypatch, bad, reason):
    tmp_path, files = env
    corrupt = tmp_path / "corrupt.bin"
    corrupt.write_bytes(bad)
    monkeypatch.setitem(REGISTRY, "toy/a.bin", RemoteFile(
        "toy/a.bin", len(PAYLOAD), files["toy/a.bin"].sha256, (corrupt.as_uri(),)))
    with pytest.raises(DataNotFoundError) as err:
        fetch("toy/a.bin", progress=False)
    assert reason in str(err.value) and corrupt.as_uri() in str(err.value)
    assert leftovers(tmp_path / "cache") == []


def test_exception_during_download_leaves_no_partial_file(env):
    tmp_path, files = env

    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 2:
                raise RuntimeError("connection lost")
            return PAYLOAD[:n]

    with pytest.raises(RuntimeError, match="connection lost"):  # not a network error: propagates
        fetch("toy/a.bin", urls=["http://x/a.bin"], opener=lambda url, timeout: Broken(), progress=False)
    assert leftovers(tmp_path / "cache") == []


def test_data_env_is_used_first(env, monkeypatch):
    tmp_path, _ = env
    data = tmp_path / "data"
    (data / "toy").mkdir(parents=True)
    (data / "toy" / "a.bin").write_bytes(PAYLOAD)
    monkeypatch.setenv("COURSEPKG_DATA", str(data))
    opener = CountingOpener(fail=AssertionError("must not download"))
    assert fetch("toy/a.bin", opener=opener) == data / "toy" / "a.bin"
    # a file missing from COURSEPKG_DATA falls through to the cache / download
    assert fetch("toy/b.bin", opener=CountingOpener(), progress=False) == tmp_path / "cache/toy/b.bin"


def test_corrupt_file_in_data_env_raises(env, monkeypatch):
    tmp_path, _ = env
    (tmp_path / "data" / "toy").mkdir(parents=True)
    (tmp_path / "data" / "toy" / "a.bin").write_bytes(PAYLOAD[:100])
    monkeypatch.setenv("COURSEPKG_DATA", str(tmp_path / "data"))
    with pytest.raises(ChecksumError, match="COURSEPKG_DATA") as err:
        fetch("toy/a.bin", opener=CountingOpener(fail=AssertionError("no download")))
    assert "corrupt" in str(err.value) and "100 bytes" in str(err.value)


def test_cache_is_used_and_verified_once(env, monkeypatch):
    tmp_path, _ = env
    cached = tmp_path / "cache" / "toy" / "a.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(PAYLOAD)
    hashed = []
    real = download._sha256_file
    monkeypatch.setattr(download, "_sha256_file", lambda path: hashed.append(path) or real(path))
    opener = CountingOpener(fail=AssertionError("must not download"))
    for _ in range(3):
        assert fetch("toy/a.bin", opener=opener) == cached
    assert len(hashed) == 1


def test_corrupt_cache_is_downloaded_again(env):
    tmp_path, _ = env
    cached = tmp_path / "cache" / "toy" / "a.bin"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"\0" * len(PAYLOAD))
    opener = CountingOpener()
    assert fetch("toy/a.bin", opener=opener, progress=False) == cached
    assert cached.read_bytes() == PAYLOAD and opener.urls
    assert leftovers(tmp_path / "cache") == ["a.bin"]


def test_a_file_changed_after_verification_is_checked_again(env, monkeypatch):
    tmp_path, _ = env
    path = fetch("toy/a.bin", progress=False)
    path.write_bytes(PAYLOAD[:-1] + b"!")
    os.utime(path, ns=(1, 1))  # a different mtime, as any edit would give
    monkeypatch.setenv("COURSEPKG_DATA", str(tmp_path / "cache"))
    with pytest.raises(ChecksumError):
        fetch("toy/a.bin")


def test_offline_error_lists_files_urls_and_places(env):
    tmp_path, files = env
    opener = CountingOpener(fail=urllib.error.URLError("no network"))
    with pytest.raises(DataNotFoundError) as err:
        fetch_many(["toy/a.bin", "toy/b.bin"], opener=opener, progress=False)
    msg = str(err.value)
    for entry in files.values():
        assert entry.relpath in msg
        assert all(url in msg for url in entry.urls)
    assert "no network" in msg and "COURSEPKG_DATA" in msg and str(tmp_path / "cache") in msg
    assert len(opener.urls) == 2  # gives up after the first file, listing the second too
    assert isinstance(err.value, FileNotFoundError)


def test_unknown_file_name():
    with pytest.raises(KeyError, match="unknown data file"):
        fetch("mnist/nope.gz")


# --------------------------------------------------------------------------- IDX parsing


def write_idx(path: Path, arr: np.ndarray, type_byte: int = 0x08, magic: bytes | None = None,
              cut: int = 0) -> Path:
    header = (magic or bytes([0, 0, type_byte, arr.ndim])) + np.asarray(arr.shape, ">u4").tobytes()
    raw = header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw[: len(raw) - cut]))
    return path


def test_read_idx_roundtrip_and_read_only(tmp_path):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    out = read_idx(write_idx(tmp_path / "a.gz", arr), expected_shape=(None, 3, 4))
    np.testing.assert_array_equal(out, arr)
    assert out.dtype == np.uint8 and not out.flags.writeable
    ints = np.array([-5, 70000, 3], dtype=np.int32)
    np.testing.assert_array_equal(read_idx(write_idx(tmp_path / "i.gz", ints, 0x0C)), ints)


def test_read_idx_rejects_bad_files(tmp_path):
    arr = np.zeros((2, 3), dtype=np.uint8)
    with pytest.raises(IDXFormatError, match="magic"):
        read_idx(write_idx(tmp_path / "m.gz", arr, magic=b"\x00\x01\x08\x02"))
    with pytest.raises(IDXFormatError, match="truncated"):
        read_idx(write_idx(tmp_path / "t.gz", arr, cut=1))
    with pytest.raises(IDXFormatError, match="expected an array of shape"):
        read_idx(write_idx(tmp_path / "s.gz", arr), expected_shape=(2, 4))


# --------------------------------------------------------------------------- real data sets


def shared_data(*relpaths: str) -> Path:
    root = os.environ.get("COURSEPKG_DATA")
    if not root or not all((Path(root) / r).is_file() for r in relpaths):
        pytest.skip(f"real data absent: set COURSEPKG_DATA to a folder holding {', '.join(relpaths)}")
    return Path(root)


MNIST_FILES = [r for r in REGISTRY if r.startswith("mnist/")]
FASHION_FILES = [r for r in REGISTRY if r.startswith("fashion-mnist/")]


def check_splits(splits):
    assert [len(x) for x, _ in splits] == [50_000, 10_000, 10_000]
    for X, y in splits:
        assert X.dtype == np.float32 and X.shape[1:] == (784,)
        assert y.dtype == np.int64 and y.shape == (len(X),)
        assert 0.0 <= X.min() and X.max() <= 1.0 and X.max() == 1.0
        assert set(np.unique(y)) == set(range(10))


def test_load_mnist():
    root = shared_data(*MNIST_FILES)
    splits = load_mnist(progress=False)
    check_splits(splits)
    (X_tr, y_tr), (X_val, y_val), (X_te, _) = splits
    raw = read_idx(root / "mnist/train-images-idx3-ubyte.gz")
    labels = read_idx(root / "mnist/train-labels-idx1-ubyte.gz")
    # the reference split: images 0..49,999 train, 50,000..59,999 validation, in file order
    np.testing.assert_array_equal(X_val[0], raw[50_000].reshape(-1) / np.float32(255))
    np.testing.assert_array_equal(y_tr, labels[:50_000])
    np.testing.assert_array_equal(y_val, labels[50_000:])
    assert y_tr[:5].tolist() == [5, 0, 4, 1, 9]
    # learners' in-place edits do not reach the next call
    X_tr *= 0
    y_tr[:] = -1
    (X2, y2), _, _ = load_mnist(progress=False)
    assert X2.max() == 1.0 and y2.min() == 0 and not np.shares_memory(X2, X_tr)
    images, _, X4 = load_mnist(flatten=False, dtype=np.float64, progress=False)
    assert images[0].shape == (50_000, 1, 28, 28) and images[0].dtype == np.float64
    np.testing.assert_allclose(X4[0].reshape(10_000, -1), X_te)
    with pytest.raises(TypeError, match="float"):
        load_mnist(dtype=np.int32)


def test_load_fashion_mnist():
    shared_data(*FASHION_FILES)
    splits = load_fashion_mnist(progress=False)
    check_splits(splits)
    assert np.bincount(splits.test[1]).tolist() == [1000] * 10
    assert len(FASHION_MNIST_CLASSES) == 10 and FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert load_fashion_mnist(flatten=False, progress=False).val[0].shape == (10_000, 1, 28, 28)
    assert not np.array_equal(splits.test[0][:100], load_mnist(progress=False).test[0][:100])


def test_tiny_shakespeare():
    shared_data("tinyshakespeare.txt")
    text = load_tiny_shakespeare(progress=False)
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")
    vocab = CharVocab(text)
    assert len(vocab) == 65
    ids = vocab.encode(text)
    assert ids.dtype == np.int64 and ids.shape == (len(text),) and ids.max() == 64
    assert vocab.decode(ids) == text


# --------------------------------------------------------------------------- text vocabulary


def test_char_vocab():
    vocab = CharVocab("hello world")
    assert vocab.chars == " dehlorw" and len(vocab) == 8
    np.testing.assert_array_equal(vocab.encode("hold"), [3, 5, 4, 1])
    assert vocab.decode(np.array([3, 2, 4, 4, 5])) == "hello"
    assert vocab.decode([]) == "" and vocab.encode("").shape == (0,)
    assert CharVocab("é€a").decode(CharVocab("é€a").encode("€éa")) == "€éa"  # not just ASCII
    with pytest.raises(ValueError, match=r"not in the vocabulary: '\?z'"):
        vocab.encode("hello?z")
    with pytest.raises(ValueError, match=r"\[0, 7\]"):
        vocab.decode([8])
    with pytest.raises(ValueError, match="integer"):
        vocab.decode([[1, 2]])
    with pytest.raises(ValueError, match="non-empty"):
        CharVocab("")


# --------------------------------------------------------------------------- toy data sets


@pytest.mark.parametrize("name, outputs", [
    ("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]), ("xor", [0, 1, 1, 0]), ("nand", [1, 1, 1, 0]),
])
def test_logic_gates(name, outputs):
    X, y = logic_gate(name)
    assert X.shape == (4, 2) and X.dtype == np.float32 and y.dtype == np.int64
    ops = {"and": np.logical_and, "or": np.logical_or, "xor": np.logical_xor,
           "nand": lambda a, b: ~np.logical_and(a, b)}
    np.testing.assert_array_equal(y, ops[name](X[:, 0] > 0, X[:, 1] > 0))
    assert y.tolist() == outputs and X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]


def test_logic_gate_unknown():
    with pytest.raises(ValueError, match="xor"):
        logic_gate("implies")


TOYS = {
    "blobs": (lambda rng: blobs(90, centers=3, rng=rng), 3),
    "moons": (lambda rng: moons(90, noise=0.1, rng=rng), 2),
    "circles": (lambda rng: circles(90, rng=rng), 2),
    "spirals": (lambda rng: spirals(90, classes=3, rng=rng), 3),
}


@pytest.mark.parametrize("name", TOYS)
def test_toy_classification_sets(name):
    make, k = TOYS[name]
    X, y = make(0)
    assert X.shape == (90, 2) and X.dtype == np.float32
    assert y.shape == (90,) and y.dtype == np.int64
    assert np.bincount(y).tolist() == [90 // k] * k
    X2, y2 = make(0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(make(1)[0], X)
    X3, _ = make(np.random.default_rng(0))  # a Generator works like its seed
    np.testing.assert_array_equal(X3, X)
    assert not np.array_equal(y, np.sort(y))  # shuffled


def nearest_center(X, centers):
    return np.argmin(((X[:, None, :] - centers[None]) ** 2).sum(-1), axis=1)


def test_blobs_are_linearly_separable():
    centers = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0], [3.0, 3.0]])
    X, y = blobs(400, centers=centers, std=2.0, rng=0, dtype=np.float64)
    assert (nearest_center(X, centers) == y).all()  # a linear (nearest-center) classifier is perfect
    X, y = blobs(400, centers=centers, std=2.0, rng=0, separable=False, dtype=np.float64)
    assert (nearest_center(X, centers) != y).any()  # without clipping the clouds overlap
    X, y = blobs(100, centers=2, std=0.5, rng=0, dtype=np.float64)  # default layout: 5 apart
    means = np.stack([X[y == c].mean(0) for c in range(2)])
    assert np.linalg.norm(means[0] - means[1]) == pytest.approx(5.0, abs=0.5)


def test_moons_circles_spirals_geometry():
    X, y = circles(200, noise=0.0, factor=0.3, rng=0, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.where(y == 0, 1.0, 0.3))
    X, y = moons(200, noise=0.0, rng=0, dtype=np.float64)
    np.testing.assert_allclose(np.linalg.norm(X[y == 0], axis=1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(X[y == 1] - [1.0, 0.5], axis=1), 1.0)
    X, y = spirals(300, classes=3, noise=0.0, rng=0, dtype=np.float64)
    r = np.linalg.norm(X, axis=1)
    assert r.min() == pytest.approx(0.0) and r.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="factor"):
        circles(10, factor=1.5)
    with pytest.raises(ValueError, match="noise"):
        moons(10, noise=-1)
    with pytest.raises(ValueError, match="n must be"):
        spirals(0)


def test_regression_1d():
    x, y = regression_1d(50, fn="sine", noise=0.0, rng=0)
    assert x.shape == y.shape == (50, 1) and x.dtype == y.dtype == np.float32
    assert (np.diff(x[:, 0]) >= 0).all() and -1 <= x.min() and x.max() <= 1
    np.testing.assert_allclose(y, np.sin(np.pi * x), atol=1e-6)
    x2, y2 = regression_1d(50, fn=lambda t: 2 * t, noise=0.1, rng=0)
    np.testing.assert_array_equal(x2, x)
    assert 0 < np.abs(y2 - 2 * x2).max() < 0.5
    np.testing.assert_array_equal(regression_1d(50, rng=3)[1], regression_1d(50, rng=3)[1])
    with pytest.raises(ValueError, match="sine"):
        regression_1d(10, fn="tangent")


# --------------------------------------------------------------------------- k-fold cross-validation


@pytest.mark.parametrize("n, k", [(10, 5), (23, 5), (7, 7), (101, 3), (2, 2)])
def test_k_fold_splits_partition(n, k):
    pairs = list(k_fold_splits(n, k, rng=0))
    assert len(pairs) == k
    vals = [va for _, va in pairs]
    # every index is in exactly one validation fold
    np.testing.assert_array_equal(np.sort(np.concatenate(vals)), np.arange(n))
    sizes = [len(va) for va in vals]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == n
    for tr, va in pairs:
        assert tr.dtype.kind == va.dtype.kind == "i"
        assert len(np.intersect1d(tr, va)) == 0  # never validated on its own training data
        np.testing.assert_array_equal(np.sort(np.concatenate([tr, va])), np.arange(n))
        assert len(np.unique(tr)) == len(tr) == n - len(va)


def test_k_fold_splits_is_random_and_reproducible():
    a = [va for _, va in k_fold_splits(50, 5, rng=1)]
    b = [va for _, va in k_fold_splits(50, 5, rng=1)]
    c = [va for _, va in k_fold_splits(50, 5, rng=2)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, y) for x, y in zip(a, c))
    assert not all((np.diff(va) > 0).all() for va in a)  # folds are drawn at random, not consecutive blocks
    gen = np.random.default_rng(5)
    assert len(list(k_fold_splits(np.int64(12), np.int32(4), rng=gen))) == 4  # NumPy integers and a Generator


@pytest.mark.parametrize("n, k, error, match", [
    (10, 1, ValueError, r"k_fold_splits: need k ≥ 2.*received k = 1"),
    (10, 0, ValueError, r"k ≥ 2"),
    (3, 5, ValueError, r"k_fold_splits: need k ≤ n.*k = 5 for n = 3"),
    (0, 2, ValueError, r"k = 2 for n = 0"),
    (10, 2.5, TypeError, r"k_fold_splits: k must be an integer, received 2.5"),
    (10.0, 2, TypeError, r"k_fold_splits: n must be an integer, received 10.0"),
    (10, True, TypeError, r"k must be an integer"),
])
def test_k_fold_splits_errors(n, k, error, match):
    with pytest.raises(error, match=match):
        k_fold_splits(n, k)  # raised at the call, before iterating
