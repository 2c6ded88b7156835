"""Tests for minirnn.data: datasets are deterministic per seed, files round-trip, batches are
what the docstrings say. Ordered from simple to complex."""
import numpy as np
import pytest

import minirnn
from minirnn.data import (CharCorpus, DataLoader, DigitSum, HelloOhlol, TranslationPairs,
                          collate, default_corpus, load_digitsum, save_digitsum)


# ---- toy tasks ---------------------------------------------------------------------------

def test_hello_ohlol_ids_and_onehot():
    task = HelloOhlol()
    np.testing.assert_array_equal(task.x_ids, [1, 0, 2, 2, 3])    # e=0 h=1 l=2 o=3
    np.testing.assert_array_equal(task.y_ids, [3, 1, 2, 3, 2])
    assert task.x_onehot.shape == (5, 4) and task.x_onehot.dtype == np.float64
    np.testing.assert_array_equal(task.x_onehot.argmax(1), task.x_ids)
    np.testing.assert_array_equal(task.x_onehot.sum(1), np.ones(5))
    assert task.decode(task.x_ids) == "hello" and task.decode(task.y_ids) == "ohlol"
    assert HelloOhlol(dtype=np.float32).x_onehot.dtype == np.float32
    with pytest.raises(IndexError):
        task.decode([4])


def test_translation_pairs_shapes_and_round_trip():
    data = TranslationPairs()
    assert len(data) == 3
    assert data.source_vocab[:3] == ["<pad>", "<bos>", "<eos>"]
    assert data.source_ids.shape == (3, 5)                     # hello, cat, good
    np.testing.assert_array_equal(data.source_lengths, [5, 3, 4])
    assert data.decoder_input_ids.shape == data.decoder_target_ids.shape == (3, 6)
    np.testing.assert_array_equal(data.target_lengths, [5, 5, 6])   # hola, gato, bueno + eos
    assert (data.decoder_input_ids[:, 0] == data.bos_id).all()
    # The decoder target is its input shifted left by one, with <eos> after the word.
    for n, (src, tgt) in enumerate(data.pairs):
        T = len(tgt)
        np.testing.assert_array_equal(data.decoder_input_ids[n, 1:T + 1],
                                      data.decoder_target_ids[n, :T])
        assert data.decoder_target_ids[n, T] == data.eos_id
        assert (data.decoder_target_ids[n, T + 1:] == data.pad_id).all()
        assert data.decode_source(data.source_ids[n]) == src
        assert data.decode_target(data.decoder_input_ids[n]) == tgt
        assert data.decode_target(data.decoder_target_ids[n]) == tgt


def test_translation_pairs_custom_and_separate_vocab():
    data = TranslationPairs([("ab", "xyz")], shared_vocab=False)
    assert data.source_vocab == ["<pad>", "<bos>", "<eos>", "a", "b"]
    assert data.target_vocab == ["<pad>", "<bos>", "<eos>", "x", "y", "z"]
    with pytest.raises(ValueError, match="not in the source vocabulary"):
        data.encode_source("abc")
    with pytest.raises(ValueError):
        TranslationPairs([("a", "")])


# ---- DigitSum ----------------------------------------------------------------------------

@pytest.mark.parametrize("length, k", [(3, 1), (6, 4)])
def test_digitsum_rule(length, k):
    data = DigitSum(length, k, "train", rng=0)
    assert len(data) == 100 * k
    assert data.x.shape == (100 * k, length) and data.y.shape == (100 * k,)
    assert data.num_classes == 19 and data.vocab_size == 10
    np.testing.assert_array_equal(data.y, data.x[:, 0] + data.x[:, 1])
    # Every base pair appears exactly k times.
    pairs = data.x[:, 0] * 10 + data.x[:, 1]
    np.testing.assert_array_equal(np.bincount(pairs, minlength=100), np.full(100, k))
    # Exactly one drawn position in [2, length); every other position >= 2 is zero.
    assert ((data.positions >= 2) & (data.positions < length)).all()
    tail = data.x.copy()
    tail[np.arange(len(data)), data.positions] = 0
    assert (tail[:, 2:] == 0).all()
    assert ((data.x[:, 2:] >= 0) & (data.x[:, 2:] <= 9)).all()
    x, y = data[3]
    np.testing.assert_array_equal(x, data.x[3])
    assert y == data.y[3]


def test_digitsum_deterministic_and_splits_differ():
    a = DigitSum(8, 5, "train", rng=7)
    np.testing.assert_array_equal(a.x, DigitSum(8, 5, "train", rng=7).x)
    minirnn.manual_seed(3)
    b = DigitSum(8, 5, "dev")
    minirnn.manual_seed(3)
    np.testing.assert_array_equal(b.x, DigitSum(8, 5, "dev").x)
    train, dev, test = DigitSum.splits(8, 5, rng=7)
    np.testing.assert_array_equal(train.x, a.x)
    assert not np.array_equal(train.x, dev.x) and not np.array_equal(dev.x, test.x)
    assert not np.array_equal(a.x, DigitSum(8, 5, "train", rng=8).x)
    again = DigitSum.splits(8, 5, rng=np.random.default_rng(1))
    assert all(np.array_equal(p.x, q.x)
               for p, q in zip(again, DigitSum.splits(8, 5, rng=np.random.default_rng(1))))


def test_digitsum_bad_arguments():
    with pytest.raises(ValueError, match="length >= 3"):
        DigitSum(2, 1)
    with pytest.raises(ValueError, match="k >= 1"):
        DigitSum(5, 0)
    with pytest.raises(ValueError, match="split"):
        DigitSum(5, 1, "valid")


def test_digitsum_file_round_trip(tmp_path):
    splits = DigitSum.splits(5, 2, rng=0)
    save_digitsum(tmp_path / "ds", *splits)
    first = (tmp_path / "ds" / "train.txt").read_text().splitlines()[0]
    assert first == " ".join(map(str, splits[0].x[0])) + f"\t{splits[0].y[0]}"
    loaded = load_digitsum(tmp_path / "ds")
    for saved, back in zip(splits, loaded):
        np.testing.assert_array_equal(saved.x, back.x)
        np.testing.assert_array_equal(saved.y, back.y)
        assert back.split == saved.split and back.positions is None
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["dev.txt", "test.txt",
                                                                   "train.txt"]  # no temp left


@pytest.mark.parametrize("body, expected", [
    ("1 2 0\t3\n1 2 0 3\n", "2 TAB-separated fields"),
    ("1 2 0\t3\t3\n", "2 TAB-separated fields"),
    ("1 2 0\t3\n1 x 0\t3\n", "expected a digit 0..9, got 'x'"),
    ("1 2 0\t3\n1 12 0\t13\n", "out of range"),
    ("1 2 0\t3\n1 2 0 0\t3\n", "expected 3 digits"),
    ("1 2 0\t3\n1 2 0\t19\n", "label in 0..18"),
    ("1 2 0\t3\n1 2 0\tthree\n", "label in 0..18"),
    ("1 2\t3\n", "at least 3 digits"),
])
def test_digitsum_malformed_lines(tmp_path, body, expected):
    path = tmp_path / "train.txt"
    path.write_text(body)
    line = "1" if body.count("\n") == 1 else "2"
    with pytest.raises(ValueError, match=f"train.txt:{line}: .*{expected}"):
        DigitSum.from_file(path)


def test_digitsum_label_is_data_and_empty_file(tmp_path):
    path = tmp_path / "odd.txt"
    path.write_text("1 2 0\t7\n")                 # label != 1 + 2 is allowed: it is data
    assert DigitSum.from_file(path).y.tolist() == [7]
    path.write_text("")
    with pytest.raises(ValueError, match="odd.txt: empty file"):
        DigitSum.from_file(path)


# ---- DataLoader --------------------------------------------------------------------------

class _Seqs:
    """(sequence, label) items of lengths 3, 1, 2, 3, 2."""
    seqs = [[1, 2, 3], [4], [5, 6], [7, 8, 9], [1, 1]]

    def __len__(self):
        return len(self.seqs)

    def __getitem__(self, i):
        return self.seqs[i], i


def test_collate_scalars_fixed_and_padded():
    x, y = collate([([1, 2], 0), ([3, 4], 1)])
    np.testing.assert_array_equal(x, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(y, [0, 1])
    x, y, lengths = collate([([1, 2, 3], 0), ([4], 1)], pad_value=-1)
    np.testing.assert_array_equal(x, [[1, 2, 3], [4, -1, -1]])
    np.testing.assert_array_equal(lengths, [3, 1])
    assert lengths.dtype == np.int64
    with pytest.raises(ValueError, match="lengths"):
        collate([([1, 2], [1]), ([1], [1, 2])])


def test_loader_batches_padding_and_len():
    loader = DataLoader(_Seqs(), batch_size=2)
    assert len(loader) == 3
    batches = list(loader)
    assert len(batches) == 3
    x, y, lengths = batches[0]
    np.testing.assert_array_equal(x, [[1, 2, 3], [4, 0, 0]])
    np.testing.assert_array_equal(y, [0, 1])
    np.testing.assert_array_equal(lengths, [3, 1])
    # The last batch holds one sequence, yet still has lengths: the structure is per dataset.
    x, y, lengths = batches[2]
    assert x.shape == (1, 2) and lengths.tolist() == [2]
    assert len(DataLoader(_Seqs(), 2, drop_last=True)) == 2
    assert len(list(DataLoader(_Seqs(), 2, drop_last=True))) == 2


def _two_epochs(loader):
    """The labels of two epochs, each concatenated over its batches."""
    return [np.concatenate([y for _, y in loader]) for _ in range(2)]


def test_loader_shuffle_is_deterministic_per_seed():
    data = DigitSum(4, 1, rng=0)
    a = _two_epochs(DataLoader(data, 16, shuffle=True, rng=5))
    b = _two_epochs(DataLoader(data, 16, shuffle=True, rng=5))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])                 # a new permutation each epoch
    np.testing.assert_array_equal(np.sort(a[0]), np.sort(data.y))   # each item once
    minirnn.manual_seed(9)
    c = _two_epochs(DataLoader(data, 16, shuffle=True))
    minirnn.manual_seed(9)
    np.testing.assert_array_equal(c[0], _two_epochs(DataLoader(data, 16, shuffle=True))[0])
    unshuffled = np.concatenate([y for _, y in DataLoader(data, 16)])
    np.testing.assert_array_equal(unshuffled, data.y)


def test_loader_validates_arguments():
    with pytest.raises(ValueError, match="batch_size >= 1"):
        DataLoader(_Seqs(), 0)
    with pytest.raises(TypeError):
        DataLoader(_Seqs(), 2.0)
    with pytest.raises(TypeError):
        DataLoader(42, 2)
    with pytest.raises(TypeError):
        DataLoader(_Seqs(), 2, rng="seed")


def test_loader_batches_translation_pairs():
    src, src_len, dec_in, dec_out, tgt_len = next(iter(DataLoader(TranslationPairs(), 2)))
    assert src.shape == (2, 5) and dec_in.shape == dec_out.shape == (2, 6)
    np.testing.assert_array_equal(src_len, [5, 3])


# ---- CharCorpus --------------------------------------------------------------------------

def test_char_corpus_round_trip_and_unknown():
    text = "hello 世界, hello 中文!\n"
    corpus = CharCorpus(text)
    assert corpus.decode(corpus.encode(text)) == text
    assert corpus.vocab_size == len(set(text)) + 1
    assert corpus.chars[1:] == sorted(set(text)) and corpus.unk_id == 0
    ids = corpus.encode("h猫o")                    # '猫' is not in the text
    assert ids[1] == corpus.unk_id and corpus.decode(ids) == "h\ufffdo"
    with pytest.raises(IndexError):
        corpus.decode([corpus.vocab_size])
    with pytest.raises(ValueError):
        CharCorpus("")


def test_char_corpus_from_file_and_split(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("abcabc 汉字", encoding="utf-8")
    corpus = CharCorpus.from_file(path)
    assert corpus.text == "abcabc 汉字"
    train, held = corpus.split(0.5)
    assert train.text + held.text == corpus.text and train.chars == held.chars == corpus.chars
    path.write_bytes(b"abc\xff")
    with pytest.raises(ValueError, match="t.txt: not UTF-8"):
        CharCorpus.from_file(path)
    path.write_text("")
    with pytest.raises(ValueError, match="t.txt: empty"):
        CharCorpus.from_file(path)
    with pytest.raises(FileNotFoundError):
        CharCorpus.from_file(tmp_path / "missing.txt")


def _corpus():
    return CharCorpus("the quick brown fox jumps over the lazy dog. " * 12)


def test_targets_are_inputs_shifted_by_one():
    corpus = _corpus()
    for batches in (corpus.random_batches(3, 7, rng=0), corpus.sequential_batches(3, 7, rng=0)):
        count = 0
        for X, Y in batches:
            assert X.shape == Y.shape == (3, 7) and X.dtype == np.int64
            for x, y in zip(X, Y):
                # Find the window in the corpus and check that Y is the next characters.
                start = corpus.text.find(corpus.decode(np.r_[x, y[-1]]))
                assert start >= 0
                np.testing.assert_array_equal(corpus.ids[start + 1:start + 8], y)
            count += 1
        assert count > 0


def test_sequential_batches_are_contiguous():
    corpus = CharCorpus("".join(chr(0x4e00 + i) for i in range(200)))   # all distinct
    batches = list(corpus.sequential_batches(4, 5, rng=1))
    assert len(batches) >= 2
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        # Row n of the next batch starts right after row n of this one ends in the corpus.
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)
    for X, Y in batches:
        np.testing.assert_array_equal(Y, X + 1)


def test_random_batches_cover_non_overlapping_windows():
    corpus = CharCorpus("".join(chr(0x4e00 + i) for i in range(200)))   # ids 1..200 in order
    batches = list(corpus.random_batches(4, 5, rng=2))
    starts = np.concatenate([X[:, 0] for X, _ in batches]) - 1          # id - 1 = position
    assert len(starts) == len(batches) * 4
    assert len(np.unique(starts)) == len(starts)
    assert len(np.unique(starts % 5)) == 1                              # one common offset
    for X, Y in batches:
        np.testing.assert_array_equal(X, X[:, :1] + np.arange(5))       # consecutive windows
        np.testing.assert_array_equal(Y, X + 1)
    again = list(corpus.random_batches(4, 5, rng=2))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again))


def test_batching_validation():
    corpus = _corpus()
    with pytest.raises(ValueError, match="num_steps >= 1"):
        corpus.random_batches(2, 0)
    with pytest.raises(ValueError, match="too short"):
        corpus.sequential_batches(100, 100)


def test_default_corpus_offline_and_deterministic():
    full = default_corpus()
    assert 100_000 < len(full) < 2_000_000
    assert default_corpus().text == full.text
    small = default_corpus(max_chars=5000)
    assert len(small) == 5000 and full.text.startswith(small.text)
    X, Y = next(small.sequential_batches(8, 20, rng=0))
    assert X.shape == (8, 20)
