"""Bad data (hardening issue, items 9 and 11): ragged or mixed batches, corpora and DigitSum
files that are folders, FIFOs, symlink loops, carry a byte-order mark or disagree in length.
Each case: the exact exception type, a message naming what was expected, nothing changed.
"""
import gzip
import os
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minirnn.data import CharCorpus, DataLoader, DigitSum, collate, load_digitsum, save_digitsum
from minirnn.data.digits import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from minirnn.demos import digits


# ---- collate and DataLoader ---------------------------------------------------------------

RAGGED = {
    "trailing shapes differ, equal lengths": (
        [(np.zeros((3, 2)), 0), (np.zeros((3, 4)), 1)], "agree in every axis but the first"),
    "trailing shapes differ, padded": (
        [(np.zeros((3, 2)), 0), (np.zeros((2, 4)), 1)], "agree in every axis but the first"),
    "trailing ranks differ": (
        [(np.zeros((3, 2)), 0), (np.zeros(3), 1)], "agree in every axis but the first"),
    "ragged nested list": (
        [([[1, 2], [3]], 0), ([[1, 2], [3, 4]], 1)], "rectangular array of numbers"),
    "string field": ([("abc", 0), ("def", 1)], "expected numbers"),
    "mixed string and int": ([(1, 0), ("a", 1)], "expected numbers"),
    "None field": ([(None, 0), (None, 1)], "expected numbers"),
    "dict field": ([({"a": 1}, 0), ({"a": 2}, 1)], "expected numbers"),
    "object in a list": ([([1, object()], 0), ([1, 2], 1)], "expected numbers"),
    "bytes field": ([(b"ab", 0), (b"cd", 1)], "expected numbers"),
    "scalar and sequence": ([(1, 0), ([1, 2], 1)], "mixes scalars and sequences; expected"),
    "ragged label": ([([1, 2], 0), ([1, 2], [1, [2]])], "rectangular array of numbers"),
}


@pytest.mark.parametrize("case", sorted(RAGGED))
def test_collate_refuses_ragged_or_mixed_items(case):
    items, expected = RAGGED[case]
    copies = [tuple(np.copy(f) if isinstance(f, np.ndarray) else f for f in item)
              for item in items]
    with pytest.raises(ValueError, match=expected) as info:
        collate(items)
    assert type(info.value) is ValueError
    assert "field" in str(info.value)
    for item, copy in zip(items, copies):           # the items are left as they were
        for a, b in zip(item, copy):
            if isinstance(a, np.ndarray):
                np.testing.assert_array_equal(a, b)


def test_collate_names_the_item_and_field():
    with pytest.raises(ValueError, match="field 0 of item 1: expected numbers"):
        collate([([1, 2], 0), (["a", "b"], 1)])


@pytest.mark.parametrize("case", ["ragged nested list", "string field",
                                  "trailing shapes differ, equal lengths"])
def test_a_dataloader_over_ragged_items_says_what_was_expected(case):
    items, expected = RAGGED[case]
    with pytest.raises(ValueError, match=expected):
        next(iter(DataLoader(items, batch_size=2)))


def test_collate_still_takes_bools_ints_floats_and_complex():
    x, y = collate([([True, False], 1), ([False, True], 2.5)])
    assert x.dtype == bool and y.dtype == float
    (z,) = collate([(np.array([1j, 2]),), (np.array([3, 4j]),)])
    assert z.dtype.kind == "c"


# ---- CharCorpus.from_file ------------------------------------------------------------------

def test_a_bom_is_not_a_vocabulary_character(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbfabcab")
    corpus = CharCorpus.from_file(path)
    assert corpus.text == "abcab" and "\ufeff" not in corpus.chars


def test_a_file_holding_only_a_bom_is_empty(tmp_path):
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf")
    with pytest.raises(ValueError, match="bom.txt: empty file, expected a UTF-8 text file"):
        CharCorpus.from_file(path)


def test_a_bom_inside_the_text_is_kept(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("ab\ufeffc".encode("utf-8"))
    assert CharCorpus.from_file(path).text == "ab\ufeffc"


def test_windows_line_endings_read_as_newlines(tmp_path):
    path = tmp_path / "crlf.txt"
    path.write_bytes(b"ab\r\ncd\re")
    assert CharCorpus.from_file(path).text == "ab\ncd\ne"


def test_a_folder_as_corpus_is_refused(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder, expected a UTF-8 text file"):
        CharCorpus.from_file(tmp_path)


def load_in_thread(function, path):
    """function(path) in a thread; the exception it raised (the test fails if it hangs)."""
    caught = []

    def run():
        try:
            function(path)
        except Exception as e:          # noqa: BLE001 -- handed back to the test
            caught.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), f"{function.__qualname__} hung on {path}"
    return caught[0]


@pytest.mark.parametrize("load", [CharCorpus.from_file, DigitSum.from_file],
                         ids=["corpus", "digitsum"])
def test_a_fifo_is_refused_without_hanging(tmp_path, load):
    os.mkfifo(tmp_path / "fifo.txt")
    e = load_in_thread(load, tmp_path / "fifo.txt")
    assert type(e) is ValueError and "not a regular file (a FIFO" in str(e)
    assert "expected a" in str(e)


@pytest.mark.parametrize("load", [CharCorpus.from_file, DigitSum.from_file],
                         ids=["corpus", "digitsum"])
def test_a_symlink_loop_is_refused(tmp_path, load):
    os.symlink(tmp_path / "b.txt", tmp_path / "a.txt")
    os.symlink(tmp_path / "a.txt", tmp_path / "b.txt")
    with pytest.raises(OSError, match="cannot reach it .*symbolic links.*expected a"):
        load(tmp_path / "a.txt")


@pytest.mark.parametrize("load", [CharCorpus.from_file, DigitSum.from_file],
                         ids=["corpus", "digitsum"])
def test_a_missing_file_names_what_was_expected(tmp_path, load):
    with pytest.raises(FileNotFoundError, match="nope.txt: no such file, expected a"):
        load(tmp_path / "nope.txt")


@pytest.mark.parametrize("load", [CharCorpus.from_file, DigitSum.from_file],
                         ids=["corpus", "digitsum"])
def test_a_device_is_refused(load):
    with pytest.raises(ValueError, match="not a regular file"):
        load("/dev/null")


# ---- DigitSum files ------------------------------------------------------------------------

def test_a_digitsum_file_with_a_bom_reads_its_first_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_bytes(b"\xef\xbb\xbf3 4 0\t7\n1 2 0\t3\n")
    data = DigitSum.from_file(path)
    assert data.x.tolist() == [[3, 4, 0], [1, 2, 0]] and data.y.tolist() == [7, 3]


def test_a_digitsum_folder_as_a_split_is_refused(tmp_path):
    (tmp_path / "train.txt").mkdir()
    with pytest.raises(IsADirectoryError, match="train.txt: is a folder, expected a DigitSum"):
        DigitSum.from_file(tmp_path / "train.txt")


def test_splits_of_different_lengths_are_refused(tmp_path):
    train, dev, _ = DigitSum.splits(5, 1, rng=0)
    _, _, test = DigitSum.splits(6, 1, rng=0)
    save_digitsum(tmp_path, train, dev, test)
    before = {p: (tmp_path / p).read_bytes() for p in os.listdir(tmp_path)}
    with pytest.raises(ValueError, match="expected train, dev and test sequences of one "
                                         "length, got train 5, dev 5, test 6"):
        load_digitsum(tmp_path)
    assert {p: (tmp_path / p).read_bytes() for p in os.listdir(tmp_path)} == before


def test_a_missing_digitsum_folder_names_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder, expected a folder with "
                                                "train.txt, dev.txt, test.txt"):
        load_digitsum(tmp_path / "none")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_digitsum(tmp_path / "file")


def test_a_missing_split_names_the_file(tmp_path):
    save_digitsum(tmp_path, *DigitSum.splits(4, 1, rng=0))
    os.remove(tmp_path / "dev.txt")
    with pytest.raises(FileNotFoundError, match="dev.txt: no such file, expected a DigitSum"):
        load_digitsum(tmp_path)


BAD_LINES = {
    "digit 10": ("1 10 0\t3\n", "expected a digit 0..9, got 10"),
    "negative digit": ("1 -2 0\t3\n", "expected a digit 0..9, got -2"),
    "huge digit": ("1 " + "9" * 50 + " 0\t3\n", "expected a digit 0..9"),
    "float digit": ("1 2.0 0\t3\n", "expected a digit 0..9, got '2.0'"),
    "unicode digit": ("1 \u0663 0\t3\n", "expected a digit 0..9"),
    "negative label": ("1 2 0\t-1\n", "label in 0..18"),
    "huge label": ("1 2 0\t" + "9" * 5000 + "\n", "label in 0..18"),
    "empty label": ("1 2 0\t\n", "label in 0..18"),
    "three fields": ("1 2 0\t3\t4\n", "expected 2 TAB-separated fields"),
    "no tab": ("1 2 0 3\n", "expected 2 TAB-separated fields"),
    "ragged rows": ("1 2 0\t3\n1 2 0 0\t3\n", "expected 3 digits as on line 1, got 4"),
    "blank line": ("1 2 0\t3\n\n1 2 0\t3\n", "expected 2 TAB-separated fields"),
    "nul byte": ("1 2 0\t3\x00\n", "label in 0..18"),
    "not utf-8": (b"1 2 0\t3\n\xff\n", "not UTF-8 text"),
    "only whitespace": ("  \n\n", "empty file, expected one example per line"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_malformed_digitsum_file_is_refused(tmp_path, case):
    body, expected = BAD_LINES[case]
    path = tmp_path / "train.txt"
    (path.write_bytes if isinstance(body, bytes) else path.write_text)(body)
    with pytest.raises(ValueError, match=expected) as info:
        DigitSum.from_file(path)
    assert type(info.value) is ValueError and "train.txt" in str(info.value)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(alphabet="0123456789 \t\n\r-+x\ufeff", max_size=60))
def test_any_digitsum_text_is_read_or_refused_with_a_value_error(tmp_path, body):
    path = tmp_path / "train.txt"
    path.write_text(body, encoding="utf-8")
    try:
        data = DigitSum.from_file(path)
    except ValueError as e:
        assert "train.txt" in str(e) and "expected" in str(e)
        return
    assert data.x.ndim == 2 and data.x.shape[1] >= 3 and len(data.x) == len(data.y)
    assert data.x.min() >= 0 and data.x.max() <= 9 and data.y.min() >= 0 and data.y.max() <= 18


# ---- MNIST's IDX files (issue #20, item 3.1) ------------------------------------------------

def idx_header(*shape):
    """An IDX images header (magic 2051) declaring ``shape``."""
    return IMAGES_MAGIC.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in shape)


def peak_bytes(function, *args):
    """(function(*args), the most bytes Python held at once while it ran)."""
    tracemalloc.start()
    try:
        result = function(*args)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"])
def test_an_idx_fifo_is_refused_without_hanging(tmp_path, name):
    os.mkfifo(tmp_path / name)
    e = load_in_thread(lambda path: read_idx(path, IMAGES_MAGIC), tmp_path / name)
    assert type(e) is ValueError and "not a regular file (a FIFO" in str(e)
    assert "expected an IDX images file" in str(e)


def test_an_idx_device_is_refused():
    with pytest.raises(ValueError, match="not a regular file .*expected an IDX labels file"):
        read_idx("/dev/zero", LABELS_MAGIC)


def test_a_gz_claiming_more_than_it_can_expand_to_is_refused_before_reading(tmp_path):
    # 1,000 x 1,000 x 1,000 zeros compress to about 1 MB; the header claims them over a file
    # of a few hundred bytes, which no deflate stream can expand to
    path = tmp_path / "bomb.gz"
    path.write_bytes(gzip.compress(idx_header(1000, 1000, 1000) + bytes(100_000)))
    with pytest.raises(ValueError, match=r"1000x1000x1000 = 1000000000 bytes of data, more "
                                         r"than a gzip file of \d+ bytes can expand to"):
        read_idx(path, IMAGES_MAGIC)
    # the largest the file can honestly claim is read
    n = 1100 * os.path.getsize(path) - 16
    path.write_bytes(gzip.compress(idx_header(1, 1, n) + bytes(n)))
    assert read_idx(path, IMAGES_MAGIC).shape == (1, 1, n)


def test_a_gz_expanding_past_its_header_stops_at_the_header(tmp_path):
    # the header claims 1 MB; the stream holds 64 MB of zeros (about 64 KB compressed)
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb") as f:
        f.write(idx_header(1, 1000, 1000))
        for _ in range(64):
            f.write(bytes(1 << 20))
    with pytest.raises(ValueError, match="more data than its header says"):
        peak_bytes(read_idx, path, IMAGES_MAGIC)
    assert tracemalloc.get_traced_memory()[1] == 0     # stopped; now measure the refusal
    tracemalloc.start()
    try:
        with pytest.raises(ValueError):
            read_idx(path, IMAGES_MAGIC)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, peak          # 1 MB of data and a chunk, not 64 MB


@pytest.mark.parametrize("gz", [False, True])
def test_idx_data_is_held_once(tmp_path, gz):
    n = 8_000_000
    path = tmp_path / ("images.gz" if gz else "images")
    (gzip.open if gz else open)(path, "wb").write(idx_header(8, 1000, 1000) + bytes(n))
    images, peak = peak_bytes(read_idx, path, IMAGES_MAGIC)
    assert images.shape == (8, 1000, 1000) and images.dtype == np.uint8
    assert peak < 1.5 * n, peak            # the chunks and their joined copy took 2 n


def test_max_train_is_cut_before_the_pixels_become_floats(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 3000), ("t10k", 20)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        (tmp_path / f"{prefix}-images-idx3-ubyte").write_bytes(idx_header(*images.shape)
                                                                + images.tobytes())
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(
            LABELS_MAGIC.to_bytes(4, "big") + n.to_bytes(4, "big") + bytes(n))
    ((train, dev, test), _), peak = peak_bytes(digits.make_data, 0, tmp_path, 10)
    assert (len(train), len(dev), len(test)) == (10, 300, 20)
    assert train.x.dtype == np.float32
    # the uint8 file once, the 300 dev images and 10 training images as float32; converting
    # all 3,000 images to float32 first took 4x the file on top
    assert peak < 2.5 * 3000 * 28 * 28, peak


# ---- a corpus cut by max_chars (issue #20, item 3.4) ----------------------------------------

def test_max_chars_reads_only_the_start_of_a_large_corpus(tmp_path):
    path = tmp_path / "big.txt"
    path.write_bytes("déjà vu 字 ".encode() * 1_000_000)         # 15 MB
    corpus, peak = peak_bytes(lambda: CharCorpus.from_file(path, max_chars=2000))
    assert corpus.text == ("déjà vu 字 " * 200)[:2000]
    assert peak < 1_000_000, peak                  # reading the whole file took over 15 MB


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.text(alphabet="ab\r\n\ufeffé字😀", max_size=40), max_chars=st.integers(1, 45))
def test_max_chars_keeps_exactly_the_first_characters(tmp_path, body, max_chars):
    path = tmp_path / "corpus.txt"
    for data in (body.encode(), b"\xef\xbb\xbf" + body.encode()):
        path.write_bytes(data)
        try:
            whole = CharCorpus.from_file(path).text
        except ValueError:
            with pytest.raises(ValueError, match="empty file"):
                CharCorpus.from_file(path, max_chars=max_chars)
            continue
        cut = CharCorpus.from_file(path, max_chars=max_chars)
        assert cut.text == whole[:max_chars]
        assert cut.chars == CharCorpus(whole[:max_chars]).chars


def test_max_chars_does_not_read_bad_utf8_past_the_cut(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"hello" + b"." * 30 + b"\xff" * 100)   # bad from byte 35 on
    assert CharCorpus.from_file(path, max_chars=5).text == "hello"      # reads 4 * 5 + 6
    with pytest.raises(ValueError, match=r"corpus.txt: not UTF-8 text \(invalid start byte "
                                         r"at byte 35\)"):
        CharCorpus.from_file(path, max_chars=8)                          # reads 38


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-1, ValueError), (2.0, TypeError),
                                        (True, TypeError)])
def test_max_chars_is_checked(tmp_path, bad, error):
    path = tmp_path / "corpus.txt"
    path.write_text("hello")
    with pytest.raises(error, match="max_chars"):
        CharCorpus.from_file(path, max_chars=bad)
    assert CharCorpus.from_file(path, max_chars=np.int64(2)).text == "he"
