"""Handwritten digits as sequences: each image is read row by row, one row per time step.

    image (T, D) pixels in [0, 1]  ->  T steps, each a vector of D pixels  ->  label 0..9

Two sources:
  scikit-learn's 8x8 digits  ``load_sklearn_digits()``: 1,797 images bundled with
                             scikit-learn (no download; pixel values 0..16, divided by 16),
                             so T = D = 8. scikit-learn is an optional extra (minirnn[digits]).
  MNIST                      ``load_mnist(folder)``: the classic IDX files a user already has
                             (train-images-idx3-ubyte[.gz] and the others; 60,000 + 10,000
                             images of 28x28, values 0..255 divided by 255), so T = D = 28.

IDX format (big-endian): a 4-byte magic number 0x00 0x00 <type> <ndim> (type 0x08: unsigned
bytes; images: 2051 = 0x00000803, three dimensions; labels: 2049 = 0x00000801, one), then
ndim 4-byte sizes, then prod(sizes) bytes. ``read_idx`` reads only regular files (a FIFO or
device is refused before it is opened for reading), checks the magic number and the sizes
against what the file can hold (a .gz may claim at most 1,100 times its size, deflate's
limit), reads in chunks into one buffer that is never larger than the data actually there,
and refuses trailing bytes. ``read_mnist`` keeps the pixels as bytes, so a caller converts
only the images it keeps (``pixels``).

``split_indices(n, seed)`` draws the same train/dev/test split for the same seed.
"""
import gzip
import os
import zlib

import numpy as np

from .._config import resolve_rng
from .._io import open_regular_file

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
NUM_CLASSES = 10
MNIST_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
               "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_EXTRA = "minirnn digits needs scikit-learn: pip install minirnn[digits]"
_CHUNK = 1 << 20
_WHAT = {IMAGES_MAGIC: "images", LABELS_MAGIC: "labels"}
# deflate expands at most about 1,032 times (the checkpoint reader uses the same bound)
_GZIP_RATIO = 1100


class PixelSequences:
    """A dataset of images read as sequences: item i is ``(x[i] (T, D) float, y[i] int)``.

    x : (N, T, D) floats in [0, 1];  y : (N,) int64 labels in 0..9
    """

    num_classes = NUM_CLASSES

    def __init__(self, x, y):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim != 3 or y.shape != (len(x),):
            raise ValueError(f"expected images (N, T, D) and labels (N,), got {x.shape} and "
                             f"{y.shape}")
        self.x, self.y = x, y.astype(np.int64)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def subset(self, index):
        """The items at ``index`` (an int array) as a new PixelSequences."""
        return PixelSequences(self.x[index], self.y[index])


# ---- scikit-learn's 8x8 digits ----------------------------------------------------------------

def load_sklearn_digits(dtype=np.float64):
    """scikit-learn's bundled digits as a PixelSequences: x (1797, 8, 8) in [0, 1], y (1797,).
    ImportError naming the extra when scikit-learn is not installed."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(_EXTRA) from None
    bunch = load_digits()
    x = bunch.images.astype(dtype) / 16.0            # (1797, 8, 8): row t is time step t
    return PixelSequences(x, bunch.target)


def split_indices(n, seed, dev=0.1, test=0.2):
    """(train, dev, test) index arrays: one permutation of range(n) drawn from ``seed``, cut
    into the last ``test`` fraction, the ``dev`` fraction before it, and the rest. The same
    seed gives the same split."""
    if not (0 < dev < 1 and 0 < test < 1 and dev + test < 1):
        raise ValueError(f"expected dev and test fractions in (0, 1) summing below 1, got "
                         f"dev={dev}, test={test}")
    order = resolve_rng(seed).permutation(n)
    n_test, n_dev = int(round(n * test)), int(round(n * dev))
    return order[:n - n_dev - n_test], order[n - n_dev - n_test:n - n_test], order[n - n_test:]


# ---- MNIST's IDX files ------------------------------------------------------------------------

def _read_exactly(f, n, path):
    """Exactly ``n`` bytes from ``f``, read in chunks into one growing buffer (so a lying
    header cannot make us allocate more than the stream holds, and the data is held once);
    ValueError if the stream ends first."""
    data = bytearray()
    while len(data) < n:
        part = f.read(min(_CHUNK, n - len(data)))
        if not part:
            raise ValueError(f"{path}: truncated: its header says {n} bytes of data, the "
                             f"file holds {len(data)}")
        data += part
    return data


def _read_shape(f, path, magic):
    """The sizes in the IDX header at the start of ``f``, after checking its magic number."""
    ndim = magic & 0xFF
    head = f.read(4)
    if len(head) < 4:
        raise ValueError(f"{path}: truncated: {len(head)} bytes, not even the 4-byte "
                         f"magic number")
    found = int.from_bytes(head, "big")
    if found != magic:
        raise ValueError(f"{path}: not an IDX {_WHAT.get(magic, 'IDX')} file: magic number "
                         f"{found}, expected {magic}")
    raw = f.read(4 * ndim)
    if len(raw) < 4 * ndim:
        raise ValueError(f"{path}: truncated inside its header ({ndim} sizes expected)")
    shape = tuple(int.from_bytes(raw[4 * k:4 * k + 4], "big") for k in range(ndim))
    if min(shape) == 0:
        raise ValueError(f"{path}: its header gives a size of 0: {shape}")
    return shape


def read_idx(path, magic):
    """The unsigned-byte array in the IDX file ``path`` (gzip-compressed if it ends in .gz).

    magic : 2051 for images (N, rows, cols), 2049 for labels (N,)
    ValueError (with the file name) for a wrong magic number, a size of 0, a file shorter or
    longer than its header says, a .gz whose header claims more than its size could expand
    to, or a FIFO or device; FileNotFoundError if it is missing. Nothing larger than the
    file can hold is allocated, and the data is held once.
    """
    path = os.fspath(path)
    header = 4 + 4 * (magic & 0xFF)
    with open_regular_file(path, f"an IDX {_WHAT.get(magic, 'IDX')} file") as file:
        size = os.fstat(file.fileno()).st_size
        gz = path.endswith(".gz")
        f = gzip.GzipFile(fileobj=file, mode="rb") if gz else file
        try:
            shape = _read_shape(f, path, magic)
            n = int(np.prod(shape, dtype=object))
            if gz and header + n > _GZIP_RATIO * size:
                raise ValueError(f"{path}: its header says {'x'.join(map(str, shape))} = {n} "
                                 f"bytes of data, more than a gzip file of {size} bytes can "
                                 f"expand to")
            if not gz and size - header != n:      # the length is known: check it first
                what = "truncated" if size - header < n else "more data than its header says"
                raise ValueError(f"{path}: {what}: {'x'.join(map(str, shape))} = {n} "
                                 f"bytes of data, the file holds {size - header}")
            data = _read_exactly(f, n, path)
            if f.read(1):
                raise ValueError(f"{path}: more data than its header says "
                                 f"({'x'.join(map(str, shape))} = {n} bytes)")
        except (gzip.BadGzipFile, EOFError, zlib.error) as e:      # a broken or cut .gz
            raise ValueError(f"{path}: not a readable gzip file ({e})") from None
    return np.frombuffer(data, dtype=np.uint8).reshape(shape)


def _find(folder, name):
    """folder/name, or name.gz, or the common 'train-images.idx3-ubyte' spelling."""
    for candidate in (name, name + ".gz", name.replace("-idx", ".idx"),
                      name.replace("-idx", ".idx") + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{folder}: no {name} (or {name}.gz); expected the MNIST files "
                            f"{', '.join(n for pair in MNIST_FILES.values() for n in pair)}")


def read_mnist_split(folder, split):
    """One MNIST split ('train' or 't10k' files, named by ``split`` 'train' or 'test') as
    bytes: images (N, rows, cols) uint8 and labels (N,) uint8. The two files must agree on N
    and every label must be 0..9."""
    image_name, label_name = MNIST_FILES[split]
    image_path, label_path = _find(folder, image_name), _find(folder, label_name)
    images = read_idx(image_path, IMAGES_MAGIC)                  # (N, rows, cols) uint8
    labels = read_idx(label_path, LABELS_MAGIC)                  # (N,) uint8
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {os.path.basename(image_path)} holds {len(images)} images "
                         f"but {os.path.basename(label_path)} holds {len(labels)} labels")
    if labels.max() >= NUM_CLASSES:
        i = int(np.argmax(labels >= NUM_CLASSES))
        raise ValueError(f"{label_path}: label {labels[i]} at index {i}; expected digits 0..9")
    return images, labels


def read_mnist(folder):
    """((train images, labels), (test images, labels)) as uint8 arrays, from the four MNIST
    files in ``folder``: convert only what you keep with ``pixels``."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{folder}: no such folder (expected the MNIST IDX files in it)")
    train, test = read_mnist_split(folder, "train"), read_mnist_split(folder, "test")
    if train[0].shape[1:] != test[0].shape[1:]:
        raise ValueError(f"{folder}: training images are {train[0].shape[1:]}, test images "
                         f"{test[0].shape[1:]}; expected one size")
    return train, test


def pixels(images, dtype=np.float64):
    """uint8 images (N, rows, cols) as floats in [0, 1] (one float array, divided in place)."""
    x = images.astype(dtype)
    x /= 255.0
    return x


def load_mnist_split(folder, split, dtype=np.float64):
    """One MNIST split (``read_mnist_split``) as a PixelSequences: x (N, 28, 28) in [0, 1],
    y (N,)."""
    images, labels = read_mnist_split(folder, split)
    return PixelSequences(pixels(images, dtype), labels)


def load_mnist(folder, dtype=np.float64):
    """(train, test) PixelSequences from the four MNIST files in ``folder``."""
    (train_x, train_y), (test_x, test_y) = read_mnist(folder)
    return PixelSequences(pixels(train_x, dtype), train_y), \
        PixelSequences(pixels(test_x, dtype), test_y)
