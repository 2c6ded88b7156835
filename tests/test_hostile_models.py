"""Hostile and mistaken inputs to the encoder–decoder's decoding (issue #20, item 3.5): a
source of the wrong rank or dtype, a beam too large to hold, float ids to decode. Each is
refused with the exception and message promised, before any work."""
import numpy as np
import pytest

from minirnn.data import DatePairs, TranslationPairs
from minirnn.models import EncoderDecoder
from minirnn.models.decoding import MAX_BEAM, beam_search


def model_and_source():
    model = EncoderDecoder(6, 5, 3, 4, cell="gru", attention=True, rng=0)
    return model, np.random.default_rng(0).integers(0, 6, (4, 5))


def greedy(model, src):
    return model.greedy_decode(src, None, 1, 2, 4)


def beam(model, src):
    return beam_search(model, src, None, 1, 2, 4, beam_size=2)


@pytest.mark.parametrize("decode", [greedy, beam], ids=["greedy", "beam"])
def test_a_single_source_without_its_batch_axis_is_refused(decode):
    model, src = model_and_source()
    with pytest.raises(ValueError, match=r"expected src_ids of shape \(N, S\) with N, S >= 1, "
                                         r"got shape \(5,\) \(one source: pass it as one row"):
        decode(model, src[0])
    assert decode(model, src[0][None]) is not None          # what the message says works


@pytest.mark.parametrize("decode", [greedy, beam], ids=["greedy", "beam"])
@pytest.mark.parametrize("shape", [(), (2, 3, 1), (0, 5), (4, 0)])
def test_a_source_of_another_shape_is_refused(decode, shape):
    model, _ = model_and_source()
    with pytest.raises(ValueError, match=r"expected src_ids of shape \(N, S\)"):
        decode(model, np.ones(shape, dtype=np.int64))


@pytest.mark.parametrize("decode", [greedy, beam], ids=["greedy", "beam"])
@pytest.mark.parametrize("src", [[[1.0, 2.0]], [[4.9, 1.0]], [[True, False]], [["a", "b"]]])
def test_a_source_that_is_not_integer_ids_is_refused(decode, src):
    model, _ = model_and_source()
    with pytest.raises(TypeError, match="expected integer src_ids, got dtype"):
        decode(model, src)


@pytest.mark.parametrize("size", [MAX_BEAM + 1, 10 ** 9, 2 ** 63])
def test_a_beam_too_large_to_hold_is_refused_before_any_work(size):
    model, src = model_and_source()
    with pytest.raises(ValueError, match=rf"expected beam_size in 1..{MAX_BEAM}, got {size}"):
        beam_search(model, src, None, 1, 2, 4, beam_size=size)
    ids, _ = beam_search(model, src[:1], None, 1, 2, 2, beam_size=np.int64(MAX_BEAM))
    assert ids.shape[0] == 1


@pytest.mark.parametrize("data", [TranslationPairs(), DatePairs("dev", sizes=(5, 5, 5))],
                         ids=["translation", "dates"])
def test_decoding_float_ids_is_refused_not_truncated(data):
    ids = data.encode_target("a" if isinstance(data, TranslationPairs) else "1")
    for bad in ([4.9], [float(ids[0])], np.array([[1.5]])):
        with pytest.raises(TypeError, match="expected integer ids, got dtype float64"):
            data.decode_target(bad)
    assert data.decode_target(ids) == data.decode_target(list(ids)) != ""
    assert data.decode_target([]) == ""
