"""minirnn.demos.charlm's advice to a learner: default prefixes taken from one's own corpus,
and the hint printed after training (train longer, or stop earlier)."""
import numpy as np

from minirnn.data import CharCorpus
from minirnn.demos import charlm


def test_default_prefixes_come_from_ones_own_corpus():
    text = "It was the best.\nit was the worst.\n\nThe end.\nit was.\nit is.\nIt is.\n"
    assert charlm.corpus_prefixes(text) == ["it ", "It ", "The "]     # most frequent first
    corpus = CharCorpus(text)
    assert charlm.pick_prefixes(corpus, own=True) == ["it ", "It ", "The "]
    assert charlm.pick_prefixes(corpus, ["was"], own=True) == ["was"]     # given ones win
    assert charlm.pick_prefixes(CharCorpus("The def If the"), own=False) == list(charlm.PREFIXES)


def test_prefixes_of_a_text_without_spaces():
    assert charlm.corpus_prefixes("床前明月光\n疑是地上霜\n床前明月光\n") == ["床前", "疑是"]
    assert charlm.corpus_prefixes("abc") == ["ab"]


def test_the_run_uses_the_corpus_prefixes(tmp_path):
    path = tmp_path / "own.txt"
    path.write_text("we were here\nwe were there\nthey were not\n" * 60, encoding="utf-8")
    r = charlm.run(corpus_path=str(path), hidden=8, epochs=1, verbose=False, plots=False)
    assert list(r["samples"]) == ["we ", "they "]


def test_hint_says_train_longer_near_the_unigram_baseline():
    hint = "\n".join(charlm.training_hint([21.0, 20.0], unigram=25.0, epochs=12,
                                          updates_per_epoch=3))
    assert "--epochs 60" in hint and "36 updates" in hint and "unigram" in hint
    assert all(len(line) <= 100 for line in hint.split("\n"))


def test_hint_says_more_epochs_while_still_falling_and_fewer_when_rising():
    falling = "\n".join(charlm.training_hint([8.0, 6.0, 5.0], 25.0, 3, 100))
    assert "--epochs 6" in falling and "fell 17%" in falling
    rising = "\n".join(charlm.training_hint([6.0, 4.0, 4.5], 25.0, 3, 100))
    assert "--epochs 2" in rising and "memorises" in rising
    assert charlm.training_hint([5.0, 4.0, 3.99], 25.0, 3, 100) == []       # done


def test_hint_thresholds_are_what_the_constants_say():
    u = 20.0
    edge = charlm.NEAR_UNIGRAM * u
    assert charlm.training_hint([edge * 1.001] * 2, u, 1, 1)
    assert not charlm.training_hint([edge * 0.999] * 2, u, 1, 1)
    assert np.isclose(charlm.NEAR_UNIGRAM, 0.5)
