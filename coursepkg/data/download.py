"""Finding, downloading and verifying the course's data files.

Every real data set is a handful of files listed in :data:`REGISTRY` under a relative path
(``"mnist/train-images-idx3-ubyte.gz"``) with its size, its SHA-256 checksum and the public
mirrors it can be downloaded from. :func:`fetch` returns a verified local copy, looking in order

1. in the folder named by the environment variable ``COURSEPKG_DATA`` (laid out like the
   registry's paths: ``$COURSEPKG_DATA/mnist/train-images-idx3-ubyte.gz``);
2. in the user cache, ``$COURSEPKG_CACHE`` if set, else the platform's cache folder
   (``~/.cache/coursepkg`` on Linux, see :func:`cache_dir`);
3. on the mirrors, in order, downloading into the cache.

Downloads are written to a temporary file next to the target and renamed only once their
size and checksum are right, so an interrupted or corrupt download never leaves a file behind
that looks complete. A local file is checksummed once per process (the result is remembered),
so loading a data set a second time costs nothing. A corrupt cached copy is downloaded again;
a corrupt copy in ``COURSEPKG_DATA`` raises :class:`ChecksumError` (it is your folder: we do
not overwrite it).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import CourseError

DATA_ENV = "COURSEPKG_DATA"
CACHE_ENV = "COURSEPKG_CACHE"
_CHUNK = 1 << 20


class DataNotFoundError(CourseError, FileNotFoundError):
    """A data file is neither in ``COURSEPKG_DATA`` nor in the cache, and could not be downloaded."""


class ChecksumError(CourseError, ValueError):
    """A data file has the wrong size or SHA-256 checksum (truncated or corrupt)."""


@dataclass(frozen=True)
class RemoteFile:
    """One data file: where it lives in the data folder, its size and checksum, its mirrors."""

    relpath: str
    size: int
    sha256: str
    urls: tuple[str, ...]


def _mirrored(relpath: str, size: int, sha256: str, bases: Iterable[str]) -> RemoteFile:
    name = relpath.rsplit("/", 1)[-1]
    return RemoteFile(relpath, size, sha256, tuple(base + name for base in bases))


_MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
_FASHION_MIRRORS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)

#: relative path -> :class:`RemoteFile`, for every file the loaders may need.
REGISTRY: dict[str, RemoteFile] = {
    f.relpath: f
    for f in (
        _mirrored("mnist/train-images-idx3-ubyte.gz", 9_912_422,
                  "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", _MNIST_MIRRORS),
        _mirrored("mnist/train-labels-idx1-ubyte.gz", 28_881,
                  "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", _MNIST_MIRRORS),
        _mirrored("mnist/t10k-images-idx3-ubyte.gz", 1_648_877,
                  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", _MNIST_MIRRORS),
        _mirrored("mnist/t10k-labels-idx1-ubyte.gz", 4_542,
                  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", _MNIST_MIRRORS),
        _mirrored("fashion-mnist/train-images-idx3-ubyte.gz", 26_421_880,
                  "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", _FASHION_MIRRORS),
        _mirrored("fashion-mnist/train-labels-idx1-ubyte.gz", 29_515,
                  "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", _FASHION_MIRRORS),
        _mirrored("fashion-mnist/t10k-images-idx3-ubyte.gz", 4_422_102,
                  "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", _FASHION_MIRRORS),
        _mirrored("fashion-mnist/t10k-labels-idx1-ubyte.gz", 5_148,
                  "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", _FASHION_MIRRORS),
        RemoteFile("tinyshakespeare.txt", 1_115_394,
                   "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
                   ("https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                    "tinyshakespeare/input.txt",)),
    )
}

# (resolved path, size, mtime_ns, sha256) of local files already verified in this process
_verified: set[tuple[str, int, int, str]] = set()


def cache_dir() -> Path:
    """The user cache folder for downloads: ``$COURSEPKG_CACHE`` if set, else the platform's.

    Linux: ``$XDG_CACHE_HOME/coursepkg`` (default ``~/.cache/coursepkg``); macOS:
    ``~/Library/Caches/coursepkg``; Windows: ``%LOCALAPPDATA%\\coursepkg\\Cache``.
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA", home / "AppData" / "Local")) / "coursepkg" / "Cache"
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "coursepkg"
    return Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache") / "coursepkg"


def _entry(relpath: str) -> RemoteFile:
    try:
        return REGISTRY[relpath]
    except KeyError:
        raise KeyError(f"fetch: unknown data file {relpath!r}; known files: {sorted(REGISTRY)}.") from None


def _key(path: Path, entry: RemoteFile) -> tuple[str, int, int, str]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns, entry.sha256


def _sha256_file(path: Path) -> str:
    sha = hashlib.sha256()  # (hashlib.file_digest needs Python 3.11)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _problem(path: Path, entry: RemoteFile) -> str | None:
    """None when ``path`` has the registered size and SHA-256, else what is wrong with it."""
    key = _key(path, entry)
    if key in _verified:
        return None
    if key[1] != entry.size:
        return f"it has {key[1]:,} bytes, expected {entry.size:,}"
    digest = _sha256_file(path)
    if digest != entry.sha256:
        return f"its SHA-256 is {digest}, expected {entry.sha256}"
    _verified.add(key)
    return None


def _download(url: str, entry: RemoteFile, dest: Path, opener: Callable, timeout: float,
              progress: bool) -> None:
    """Download ``url`` to ``dest`` through a temporary file; rename only when verified."""
    from tqdm.auto import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        sha, size = hashlib.sha256(), 0
        with os.fdopen(fd, "wb") as out, opener(url, timeout=timeout) as response, tqdm(
            total=entry.size, unit="B", unit_scale=True, desc=dest.name, disable=not progress,
            leave=False,
        ) as bar:
            while chunk := response.read(_CHUNK):
                out.write(chunk)
                sha.update(chunk)
                size += len(chunk)
                bar.update(len(chunk))
        if size != entry.size:
            raise ChecksumError(f"downloaded {size:,} bytes, expected {entry.size:,}")
        if sha.hexdigest() != entry.sha256:
            raise ChecksumError(f"SHA-256 {sha.hexdigest()}, expected {entry.sha256}")
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _verified.add(_key(dest, entry))


def _not_found(entries: list[RemoteFile], failures: list[str]) -> DataNotFoundError:
    data_env = os.environ.get(DATA_ENV)
    lines = ["Could not find or download these data files:"]
    for e in entries:
        lines.append(f"  {e.relpath}  ({e.size:,} bytes, sha256 {e.sha256})")
        lines += [f"      {url}" for url in e.urls]
    if failures:
        lines.append("What went wrong:")
        lines += [f"  {f}" for f in failures]
    where = f" (now {data_env!r})" if data_env else " (now unset)"
    lines += [
        "Download the files on a computer with internet access, then either",
        f"  1. put them in a folder with the layout above (e.g. DATA/{entries[0].relpath}) and set the "
        f"environment variable {DATA_ENV}=DATA{where}; in a notebook: "
        f"os.environ[{DATA_ENV!r}] = '/path/to/DATA'; or",
        f"  2. copy them into the cache folder {cache_dir()} with the same layout "
        f"(e.g. {cache_dir() / entries[0].relpath}).",
    ]
    return DataNotFoundError("\n".join(lines))


def fetch_many(relpaths: Iterable[str], *, progress: bool = True, opener: Callable | None = None,
               timeout: float = 30.0, urls: dict[str, Iterable[str]] | None = None) -> list[Path]:
    """Verified local paths of several registry files (see :func:`fetch` for the arguments).

    When one file cannot be had, the error lists *every* file still missing, so a learner
    without internet access learns in one go what to download. ``urls`` maps a relative path
    to the mirrors to use instead of the registry's.
    """
    opener = urllib.request.urlopen if opener is None else opener
    entries = [_entry(r) for r in relpaths]
    paths: list[Path | None] = []
    cache = cache_dir()
    for e in entries:
        found = None
        if os.environ.get(DATA_ENV):
            candidate = Path(os.environ[DATA_ENV]).expanduser() / e.relpath
            if candidate.is_file():
                if (problem := _problem(candidate, e)) is not None:
                    raise ChecksumError(
                        f"The data file {candidate} (found through {DATA_ENV}) is corrupt: {problem}. "
                        f"Replace it with a fresh copy from {e.urls[0]}, or remove it (or unset "
                        f"{DATA_ENV}) to let coursepkg download it into {cache}."
                    )
                found = candidate
        if found is None and (cache / e.relpath).is_file() and _problem(cache / e.relpath, e) is None:
            found = cache / e.relpath
        paths.append(found)

    failures: list[str] = []
    for i, e in enumerate(entries):
        if paths[i] is not None:
            continue
        dest = cache / e.relpath
        if dest.is_file():
            failures.append(f"cached copy {dest}: {_problem(dest, e)}; downloading it again")
        for url in (urls or {}).get(e.relpath, e.urls):
            try:
                _download(url, e, dest, opener, timeout, progress)
            except (OSError, ValueError) as exc:  # URLError/HTTPError/timeouts are OSErrors
                failures.append(f"{url}: {type(exc).__name__}: {exc}")
            else:
                paths[i] = dest
                break
        else:
            missing = [entry for entry, path in zip(entries, paths) if path is None]
            raise _not_found(missing, failures)
    return paths


def fetch(relpath: str, *, progress: bool = True, opener: Callable | None = None,
          timeout: float = 30.0, urls: Iterable[str] | None = None) -> Path:
    """Path of a verified local copy of the registry file ``relpath``, downloading it if needed.

    Looks in ``$COURSEPKG_DATA``, then in :func:`cache_dir`, then downloads from the mirrors
    in order (or from ``urls`` when given) into the cache.

    Parameters
    ----------
    relpath : a key of :data:`REGISTRY`, e.g. ``"mnist/train-images-idx3-ubyte.gz"``.
    progress : show a tqdm progress bar while downloading.
    opener : ``opener(url, timeout=...)`` returning a context manager with ``read(n)``;
        default :func:`urllib.request.urlopen` (which also understands ``file://`` URLs).
    timeout : seconds to wait for a mirror before trying the next one.

    Raises
    ------
    DataNotFoundError : no local copy and no mirror delivered a correct file.
    ChecksumError : the copy in ``$COURSEPKG_DATA`` is corrupt.
    """
    return fetch_many([relpath], progress=progress, opener=opener, timeout=timeout,
                      urls=None if urls is None else {relpath: urls})[0]
