"""Crafted, damaged and unusual checkpoint files (hardening issue, items 6 and 7).

Every case asserts three things: the exact exception type (``CheckpointError`` for anything
wrong with the file itself), that the message names what was expected, and that nothing
changed -- the target model's weights, the optimiser's state and the files on disk.
Ordered: paths, header fields, zip members, truncation and random damage, kills mid-save.
"""
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minirnn import _io, nn, optim
from minirnn.train import checkpoint
from minirnn.train.checkpoint import CheckpointError

from tiny_models import SRNClassifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPY_MAGIC = b"\x93NUMPY"


# ---- helpers -------------------------------------------------------------------------------

def trained():
    """A small model and an Adam optimiser with state after one step."""
    model = SRNClassifier(hidden=4, embed=3, rng=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    crit = nn.CrossEntropyLoss()
    x, y = np.array([[1, 2, 3], [0, 4, 1]]), np.array([0, 2])
    crit(model(x), y)
    model.backward(crit.backward())
    opt.step()
    return model, opt


@pytest.fixture
def good(tmp_path):
    """(path of a valid checkpoint, its raw members {name: .npy bytes}, its header dict)."""
    path = tmp_path / "good.npz"
    model, opt = trained()
    checkpoint.save(path, model, opt, epoch=1, arrays={"best": np.arange(3.0)})
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info) for info in z.infolist()}
    header = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    return path, members, header


class Target:
    """A model and an optimiser to load into, with a snapshot to prove nothing changed."""

    def __init__(self):
        self.model = SRNClassifier(hidden=4, embed=3, rng=5)
        self.opt = optim.Adam(self.model.parameters(), lr=0.5)
        self.weights = {k: v.copy() for k, v in self.model.state_dict().items()}
        self.opt_state = self.opt.state_dict()

    def assert_unchanged(self):
        for k, v in self.model.state_dict().items():
            np.testing.assert_array_equal(v, self.weights[k], err_msg=k)
        assert self.opt.param_groups[0]["lr"] == 0.5
        assert self.opt.state_dict()["state"] == self.opt_state["state"] == {}


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as z:
        for name, data in members.items():
            z.writestr(name, data)


def npy(array):
    f = io.BytesIO()
    np.save(f, array)
    return f.getvalue()


def raw_npy(header, data=b"", version=(1, 0)):
    """A .npy file with the header text ``header`` exactly as given (no checks)."""
    text = (header + "\n").encode("latin1")
    size = struct.pack("<H", len(text)) if version[0] == 1 else struct.pack("<I", len(text))
    return NPY_MAGIC + bytes(version) + size + text + data


def meta_npy(header):
    text = header if isinstance(header, (str, bytes)) else json.dumps(header)
    data = text.encode("utf-8") if isinstance(text, str) else text
    return npy(np.frombuffer(data, dtype=np.uint8))


def assert_refused(path, target, *words):
    """load(path, model, optimizer) raises CheckpointError naming ``words``; nothing changed,
    on disk included."""
    before = {p: open(os.path.join(os.path.dirname(path), p), "rb").read()
              for p in os.listdir(os.path.dirname(path))
              if os.path.isfile(os.path.join(os.path.dirname(path), p))}
    with pytest.raises(CheckpointError) as info:
        checkpoint.load(path, target.model, target.opt)
    assert type(info.value) is CheckpointError
    message = str(info.value)
    assert str(path) in message, message
    for word in words:
        assert re.search(word, message), f"{word!r} not in {message!r}"
    target.assert_unchanged()
    after = {p: open(os.path.join(os.path.dirname(path), p), "rb").read()
             for p in os.listdir(os.path.dirname(path))
             if os.path.isfile(os.path.join(os.path.dirname(path), p))}
    assert after == before
    return message


def assert_members_refused(folder, members, *words, compression=zipfile.ZIP_STORED):
    """A zip of ``members`` is refused as ``assert_refused`` says."""
    write_zip(folder / "bad.npz", members, compression)
    return assert_refused(folder / "bad.npz", Target(), *words)


# ---- paths that are not checkpoint files ---------------------------------------------------

def test_a_directory_is_refused(tmp_path):
    (tmp_path / "dir.npz").mkdir()
    assert_refused(tmp_path / "dir.npz", Target(), "is a folder", "expected a checkpoint file")


def test_a_fifo_is_refused_without_hanging(tmp_path):
    path = tmp_path / "fifo.npz"
    os.mkfifo(path)
    result = []

    def load():
        try:
            checkpoint.load(path)
        except CheckpointError as e:
            result.append(e)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "load hung on a FIFO"
    assert "not a regular file" in str(result[0]) and "expected a checkpoint" in str(result[0])


def test_a_character_device_is_refused():
    with pytest.raises(CheckpointError, match="not a regular file.*expected a checkpoint"):
        checkpoint.load("/dev/null")


def test_a_symlink_loop_is_refused(tmp_path):
    os.symlink(tmp_path / "b.npz", tmp_path / "a.npz")
    os.symlink(tmp_path / "a.npz", tmp_path / "b.npz")
    assert_refused(tmp_path / "a.npz", Target(), "symbolic links", "expected")


def test_a_dangling_symlink_is_a_missing_file(tmp_path):
    os.symlink(tmp_path / "nowhere.npz", tmp_path / "link.npz")
    with pytest.raises(FileNotFoundError, match="no such file"):
        checkpoint.load(tmp_path / "link.npz")


def test_a_path_through_a_file_is_refused(good):
    path = str(good[0]) + "/inner.npz"
    with pytest.raises(CheckpointError, match="Not a directory.*expected"):
        checkpoint.load(path)


def test_an_unreadable_file_is_refused(good, monkeypatch):
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("minirnn._io.os.open", denied)   # tests run as root: chmod won't do
    target = Target()
    with pytest.raises(CheckpointError, match="Permission denied.*expected a readable|"
                                              "Permission denied.*expected a checkpoint"):
        checkpoint.load(good[0], target.model, target.opt)
    target.assert_unchanged()


def test_a_symlink_to_a_checkpoint_loads(good, tmp_path):
    os.symlink(good[0], tmp_path / "link.npz")
    target = Target()
    checkpoint.load(tmp_path / "link.npz", target.model, target.opt)
    assert target.opt.param_groups[0]["lr"] == 0.01


# ---- header fields: every one checked by type and range ------------------------------------

def _set(key, value):
    def change(h):
        h[key] = value
    return change


def _set_opt(key, value):
    def change(h):
        h["optimizer"][key] = value
    return change


def _drop(key):
    def change(h):
        del h[key]
    return change


HEADER_CASES = {
    "optimizer int": (_set("optimizer", 5), "'optimizer' to be a dict"),
    "optimizer str": (_set("optimizer", "x"), "'optimizer' to be a dict"),
    "optimizer list": (_set("optimizer", []), "'optimizer' to be a dict"),
    "optimizer missing keys": (_set("optimizer", {"type": "Adam"}), "keys 'type'"),
    "optimizer extra key": (lambda h: h["optimizer"].update(x=1), "keys 'type'"),
    "type int": (_set_opt("type", 5), "'type' to be a class name"),
    "type empty": (_set_opt("type", ""), "'type' to be a class name"),
    "param_groups str": (_set_opt("param_groups", "x"), "'param_groups' to be a non-empty"),
    "param_groups int": (_set_opt("param_groups", 5), "'param_groups' to be a non-empty"),
    "param_groups empty": (_set_opt("param_groups", []), "'param_groups' to be a non-empty"),
    "group int": (_set_opt("param_groups", [5]), r"param_groups\[0\] to be a dict"),
    "group without params": (_set_opt("param_groups", [{"lr": 1}]), "with 'params'"),
    "params str": (_set_opt("param_groups", [{"params": "x"}]), "distinct parameter indices"),
    "params negative": (_set_opt("param_groups", [{"params": [-1]}]), "distinct parameter"),
    "params repeated": (_set_opt("param_groups", [{"params": [0, 0]}]), "distinct parameter"),
    "params bool": (_set_opt("param_groups", [{"params": [True]}]), "distinct parameter"),
    "params float": (_set_opt("param_groups", [{"params": [0.5]}]), "distinct parameter"),
    "hyperparameter dict": (_set_opt("param_groups", [{"params": [0], "lr": {}}]),
                            "'lr' to be a number"),
    "hyperparameter nested": (_set_opt("param_groups", [{"params": [0], "betas": [[1]]}]),
                              "'betas' to be a number"),
    "scalars list": (_set_opt("scalars", []), "'scalars' to map"),
    "scalars str": (_set_opt("scalars", "x"), "'scalars' to map"),
    "scalars bad kind": (_set_opt("scalars", {"0/step": "str"}), "'scalars' to map"),
    "scalars kind int": (_set_opt("scalars", {"0/step": 5}), "'scalars' to map"),
    "scalars unknown member": (_set_opt("scalars", {"9/nope": "int"}), "not an optim/ member"),
    "scalars bad name": (_set_opt("scalars", {"x/../step": "int"}), "not an optim/ member"),
    "scalars array member": (_set_opt("scalars", {"0/exp_avg": "int"}), "expected a single int"),
    "scalars float as int": (lambda h: h["optimizer"]["scalars"].update({"0/exp_avg": "float"}),
                             "expected a single float"),
    "version str": (_set("version", "2"), "'version' to be an integer >= 1"),
    "version float": (_set("version", 1.0), "'version' to be an integer >= 1"),
    "version bool": (_set("version", True), "'version' to be an integer >= 1"),
    "version zero": (_set("version", 0), "'version' to be an integer >= 1"),
    "version null": (_set("version", None), "'version' to be an integer >= 1"),
    "version missing": (_drop("version"), "'version' to be an integer >= 1"),
    "version newer": (_set("version", 99), "newer minirnn.*reads up to 1"),
    "meta list": (_set("meta", []), "'meta' to be a dict"),
    "meta str": (_set("meta", "x"), "'meta' to be a dict"),
    "meta null": (_set("meta", None), "'meta' to be a dict"),
    "meta missing": (_drop("meta"), "'meta' to be a dict"),
    "model_class int": (_set("model_class", 5), "'model_class' to be a class name"),
    "model_class empty": (_set("model_class", ""), "'model_class' to be a class name"),
    "model_class missing": (_drop("model_class"), "'model_config' but no 'model_class'"),
    "model_config list": (_set("model_config", []), "'model_config' to be a dict or null"),
    "model_config str": (_set("model_config", "x"), "'model_config' to be a dict or null"),
    "unknown field": (_set("extra_field", 1), "unexpected metadata fields.*expected only"),
    "format wrong": (_set("format", "other"), "not a minirnn checkpoint"),
    "weights without model_class": (lambda h: [h.pop("model_class"), h.pop("model_config")],
                                    "holds weights but no 'model_class'"),
    "optimizer state without entry": (_drop("optimizer"), "no 'optimizer' entry"),
    "format missing": (_drop("format"), "not a minirnn checkpoint"),
}


@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_a_crafted_header_field_is_refused(good, tmp_path, case):
    path, members, header = good
    change, expected = HEADER_CASES[case]
    change(header)
    members["__meta__.npy"] = meta_npy(header)
    assert_members_refused(tmp_path, members, expected)


RAW_HEADERS = {
    "not a dict": ("[1, 2]", "not a minirnn checkpoint"),
    "a number": ("5", "not a minirnn checkpoint"),
    "null": ("null", "not a minirnn checkpoint"),
    "bad json": ("{'format': 1", "unreadable metadata"),
    "not utf-8": (b"\xff\xfe{}", "unreadable metadata"),
    "deep nesting": ("[" * 100_000 + "]" * 100_000, "unreadable metadata"),
    "deep nesting in meta": ('{"format": "minirnn-checkpoint", "version": 1, "meta": '
                             + '{"a": ' * 50_000 + "1" + "}" * 50_001, "unreadable metadata"),
    "huge integer": ('{"format": "minirnn-checkpoint", "version": ' + "9" * 10_000 + "}",
                     "unreadable metadata"),
}


@pytest.mark.parametrize("case", sorted(RAW_HEADERS))
def test_unreadable_header_json_is_refused(good, tmp_path, case):
    _, members, _ = good
    text, expected = RAW_HEADERS[case]
    members["__meta__.npy"] = meta_npy(text)
    assert_members_refused(tmp_path, members, expected)


@pytest.mark.parametrize("array", [np.zeros(3), np.zeros((2, 2), np.uint8)],
                         ids=["float", "2-D"])
def test_a_meta_member_of_the_wrong_kind_is_refused(good, tmp_path, array):
    _, members, _ = good
    members["__meta__.npy"] = npy(array)
    assert_members_refused(tmp_path, members, "expected 1-D uint8")


def test_no_meta_member_is_refused(good, tmp_path):
    _, members, _ = good
    del members["__meta__.npy"]
    assert_members_refused(tmp_path, members, "no '__meta__' member")


# ---- zip members: names, .npy headers, sizes -----------------------------------------------

PARAM = "param/out.bias.npy"        # (3,) float64 in the good checkpoint

def crafted(descr="'<f8'", shape="(3,)", fortran="False", data=24, version=(1, 0), extra=""):
    """A .npy member with the given header fields (as source text) and ``data`` zero bytes."""
    return raw_npy(f"{{'descr': {descr}, 'fortran_order': {fortran}, 'shape': {shape}, "
                   f"{extra}}}", b"\0" * data, version)


MEMBER_CASES = {
    "huge 1-D shape": (crafted(shape="(1099511627776,)", data=0),
                       r"declares shape \(1099511627776,\)"),
    "huge 2-D shape": (crafted(shape="(1048576, 1048576)", data=0), "holds 0 bytes of data"),
    "shape too small": (crafted(shape="(2,)"), "16 bytes.*holds 24 bytes"),
    "shape too large": (crafted(shape="(4,)"), "32 bytes.*holds 24 bytes"),
    "negative shape": (crafted(shape="(-3,)"), "expected non-negative sizes"),
    "object dtype": (crafted(descr="'|O'", shape="(1,)", data=8), "pickle"),
    "structured dtype": (npy(np.zeros(3, dtype=[("a", "<f8")])), "expected a plain numeric"),
    "nested object field": (crafted(descr="[('a', '|O')]", shape="(1,)", data=8), "pickle"),
    "subarray dtype": (crafted(descr="[('', '<f8', (3,))]", shape="(1,)"),
                       "expected a plain numeric"),
    "unicode dtype": (npy(np.array(["abc"])), "expected a plain numeric"),
    "bytes dtype": (npy(np.array([b"abc"])), "expected a plain numeric"),
    "void dtype": (npy(np.zeros(3, dtype="V8")), "expected a plain numeric"),
    "datetime dtype": (npy(np.zeros(3, dtype="M8[s]")), "expected a plain numeric"),
    "timedelta dtype": (npy(np.zeros(3, dtype="m8[s]")), "expected a plain numeric"),
    "bad magic": (b"\x93NUMPX\x01\x00" + npy(np.zeros(3))[8:], "not a .npy array.*magic"),
    "not npy at all": (b"hello world, not an array", "not a .npy array.*magic"),
    "empty member": (b"", "not a .npy array"),
    "npy version 3.0": (crafted(version=(3, 0)), "version 3.0; expected 1.0 or 2.0"),
    "npy version 9.9": (crafted(version=(9, 9)), "version 9.9; expected 1.0 or 2.0"),
    "header not a dict": (raw_npy("[1, 2, 3]", b"\0" * 24), "unreadable .npy header"),
    "header missing keys": (raw_npy("{'descr': '<f8'}", b"\0" * 24), "unreadable .npy header"),
    "header extra keys": (crafted(extra="'x': 1"), "unreadable .npy header"),
    "shape not a tuple": (crafted(shape="3"), "unreadable .npy header"),
    "shape of floats": (crafted(shape="(3.0,)"), "unreadable .npy header"),
    "unknown descr": (crafted(descr="'xyz'"), "unreadable .npy header"),
    "header is code": (raw_npy("__import__('os').system('touch /tmp/pwned')", b""),
                       "unreadable .npy header"),
    "deeply nested header": (raw_npy("(" * 4000 + ")" * 4000, b""), "unreadable .npy header"),
    "header too long": (crafted(extra=" " * 20_000, version=(2, 0)), "unreadable .npy header"),
    "fortran wrong size": (crafted(fortran="True", shape="(2, 3)"), "48 bytes.*holds 24"),
}


@pytest.mark.parametrize("case", sorted(MEMBER_CASES))
def test_a_crafted_member_is_refused(good, tmp_path, case):
    _, members, _ = good
    data, expected = MEMBER_CASES[case]
    members[PARAM] = data
    assert_members_refused(tmp_path, members, expected)
    assert not os.path.exists("/tmp/pwned")


def test_a_fortran_order_member_loads_its_values(good, tmp_path):
    _, members, _ = good
    value = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    members["extra/f.npy"] = npy(value)
    assert b"'fortran_order': True" in members["extra/f.npy"]
    write_zip(tmp_path / "f.npz", members)
    np.testing.assert_array_equal(checkpoint.load(tmp_path / "f.npz")["arrays"]["f"], value)


def test_a_big_endian_member_loads_its_values(good, tmp_path):
    _, members, _ = good
    members["extra/b.npy"] = npy(np.arange(4, dtype=">i4"))
    write_zip(tmp_path / "b.npz", members)
    assert checkpoint.load(tmp_path / "b.npz")["arrays"]["b"].tolist() == [0, 1, 2, 3]


NAME_CASES = {
    "optim index not a number": ("optim/x/step.npy", "malformed member name.*decimal index"),
    "optim index leading zero": ("optim/01/step.npy", "malformed member name"),
    "optim index negative": ("optim/-1/step.npy", "malformed member name"),
    "optim index huge": ("optim/99999999999999999999/step.npy", "malformed member name"),
    "optim no key": ("optim/0/.npy", "unexpected member|malformed member name"),
    "optim no index": ("optim/step.npy", "malformed member name"),
    "optim empty index": ("optim//step.npy", "malformed member name"),
    "optim nested key": ("optim/0/a/b.npy", "malformed member name"),
    "unknown prefix": ("other/x.npy", "unexpected member 'other/x.npy'; expected param/"),
    "no prefix": ("weights.npy", "unexpected member 'weights.npy'"),
    "empty param name": ("param/.npy", "unexpected member"),
    "not an npy member": ("param/x.txt", "not a .npy array; expected only arrays"),
    "just .npy": (".npy", "not a .npy array"),
    "directory entry": ("param/", "not a .npy array"),
}


@pytest.mark.parametrize("case", sorted(NAME_CASES))
def test_a_malformed_member_name_is_refused(good, tmp_path, case):
    _, members, _ = good
    name, expected = NAME_CASES[case]
    members[name] = npy(np.zeros(3))
    assert_members_refused(tmp_path, members, expected)


def test_a_duplicate_member_is_refused(good, tmp_path):
    _, members, _ = good
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(tmp_path / "bad.npz", "w") as z:
            for name, data in members.items():
                z.writestr(name, data)
            z.writestr(PARAM, npy(np.ones(3)))
    assert_refused(tmp_path / "bad.npz", Target(), "appears twice")


def test_a_non_scalar_step_is_refused(good, tmp_path):
    _, members, _ = good
    members["optim/0/step.npy"] = npy(np.arange(3))
    assert_members_refused(tmp_path, members, "expected a single int")


def _patch_central(data, name, offset, fmt, value):
    """``data`` with a field of ``name``'s central-directory entry replaced."""
    data, at = bytearray(data), 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        n = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + n] == name.encode():
            struct.pack_into(fmt, data, at + offset, value)
            return bytes(data)
        at += 4


ZIP_CASES = {
    # central directory offsets: flags 8, method 10, compressed size 20, uncompressed size 24
    "uncompressed size forged": (24, "<I", 2**31, "stored uncompressed but declares"),
    "compressed size forged": (20, "<I", 2**31, "stored uncompressed but declares|claim"),
    "encrypted flag": (8, "<H", 0x1, "encrypted"),
    "unknown compression method": (10, "<H", 99, "compression method 99; expected stored"),
}


@pytest.mark.parametrize("case", sorted(ZIP_CASES))
def test_forged_zip_entries_are_refused(good, tmp_path, case):
    path, members, _ = good
    offset, fmt, value, expected = ZIP_CASES[case]
    bad = tmp_path / "bad.npz"
    bad.write_bytes(_patch_central(path.read_bytes(), PARAM, offset, fmt, value))
    assert_refused(bad, Target(), expected)


def test_a_deflate_bomb_is_refused_before_inflating(good, tmp_path):
    _, members, _ = good
    bad = tmp_path / "bomb.npz"
    write_zip(bad, members, zipfile.ZIP_DEFLATED)
    bad.write_bytes(_patch_central(bad.read_bytes(), PARAM, 24, "<I", 2**32 - 1))
    assert_refused(bad, Target(), "more than deflate can expand")


def test_members_claiming_more_than_the_file_are_refused(good, tmp_path):
    _, members, _ = good
    bad = tmp_path / "bad.npz"
    write_zip(bad, members, zipfile.ZIP_DEFLATED)
    bad.write_bytes(_patch_central(bad.read_bytes(), PARAM, 20, "<I", 2**30))
    assert_refused(bad, Target(), "claim .* bytes but the file has only")


def test_a_deflated_checkpoint_still_loads(good, tmp_path):
    _, members, _ = good
    write_zip(tmp_path / "z.npz", members, zipfile.ZIP_DEFLATED)
    target = Target()
    checkpoint.load(tmp_path / "z.npz", target.model, target.opt)
    assert target.opt.param_groups[0]["lr"] == 0.01


def test_a_bzip2_member_is_refused(good, tmp_path):
    _, members, _ = good
    write_zip(tmp_path / "bz.npz", members, zipfile.ZIP_BZIP2)
    assert_refused(tmp_path / "bz.npz", Target(), "compression method 12; expected stored")


def test_not_a_zip_is_refused(tmp_path):
    for i, data in enumerate([b"", b"PK", b"\0" * 1000, b"PK\x05\x06" + b"\0" * 17]):
        (tmp_path / f"{i}.npz").write_bytes(data)
        assert_refused(tmp_path / f"{i}.npz", Target(), r"not a \.npz \(zip\) file")


def test_an_empty_zip_is_refused(tmp_path):
    (tmp_path / "empty.npz").write_bytes(b"PK\x05\x06" + b"\0" * 18)
    assert_refused(tmp_path / "empty.npz", Target(), "no '__meta__' member; not a minirnn")


# ---- truncation and random damage: CheckpointError or success, never anything else --------

@pytest.mark.parametrize("fraction", [i / 24 for i in range(24)])
def test_truncation_at_many_offsets_is_refused(good, tmp_path, fraction):
    path, _, _ = good
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[:int(len(data) * fraction)])
    assert_refused(cut, Target(), "truncated|corrupt|not a .npz")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10**6))
def test_any_truncation_is_refused(good, tmp_path, cut):
    path, _, _ = good
    data = path.read_bytes()
    if cut >= len(data):
        return
    (tmp_path / "cut.npz").write_bytes(data[:cut])
    with pytest.raises(CheckpointError):
        checkpoint.load(tmp_path / "cut.npz")


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)),
                      min_size=1, max_size=4))
def test_random_byte_flips_load_or_raise_checkpoint_error(good, tmp_path, flips):
    path, _, _ = good
    data = bytearray(path.read_bytes())
    for at, xor in flips:
        data[at % len(data)] ^= xor
    (tmp_path / "flip.npz").write_bytes(bytes(data))
    try:
        checkpoint.load(tmp_path / "flip.npz")
    except CheckpointError:
        pass
    target = Target()
    try:
        checkpoint.load(tmp_path / "flip.npz", target.model, target.opt)
    except ValueError:                       # CheckpointError, or "does not fit"
        target.assert_unchanged()


# ---- a save killed mid-write (item 7) ------------------------------------------------------

SLOW_WRITER = """
import os, sys, time
sys.path.insert(0, {root!r})
from minirnn import _io
with _io.atomic_write({target!r}, "wb") as f:
    f.write(b"x" * 100_000)
    f.flush()
    print("writing", flush=True)
    time.sleep(60)
"""

SLOW_SAVE = """
import os, sys, time
sys.path.insert(0, {root!r})
sys.path.insert(0, {tests!r})
import numpy as np
from minirnn import _io
from minirnn.train import checkpoint
from tiny_models import SRNClassifier
def slow_fsync(fd):                        # the whole file is written, not yet renamed
    print("writing", flush=True)
    time.sleep(60)
_io.os.fsync = slow_fsync
checkpoint.save({target!r}, SRNClassifier(rng=1), epoch=2)
"""


def start_writer(template, target):
    """A subprocess that is mid-way through writing ``target`` once this returns."""
    code = template.format(root=ROOT, tests=os.path.dirname(__file__), target=str(target))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def temporaries(folder):
    return sorted(p for p in os.listdir(folder) if p.endswith(".tmp"))


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()


@pytest.mark.parametrize("template", [SLOW_WRITER, SLOW_SAVE], ids=["atomic_write", "save"])
def test_a_killed_save_leaves_the_old_file_and_the_next_save_removes_its_temporary(
        tmp_path, template):
    target = tmp_path / "ckpt.npz"
    checkpoint.save(target, SRNClassifier(rng=0), epoch=1)
    before = target.read_bytes()
    proc = start_writer(template, target)
    kill(proc)
    [stale] = temporaries(tmp_path)
    assert f".{proc.pid}@" in stale
    assert target.read_bytes() == before                  # the old checkpoint is whole
    assert checkpoint.load(target)["meta"] == {"epoch": 1}
    checkpoint.save(target, SRNClassifier(rng=0), epoch=3)
    assert temporaries(tmp_path) == []
    assert checkpoint.load(target)["meta"] == {"epoch": 3}


def test_many_killed_saves_leave_nothing_after_one_good_save(tmp_path):
    target = tmp_path / "ckpt.npz"
    for _ in range(3):                # each writer removes the one killed before it
        kill(start_writer(SLOW_WRITER, target))
        assert len(temporaries(tmp_path)) == 1
    checkpoint.save(target, SRNClassifier(rng=0))
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_live_writers_temporary_is_left_alone(tmp_path):
    target = tmp_path / "ckpt.npz"
    proc = start_writer(SLOW_WRITER, target)
    try:
        [live] = temporaries(tmp_path)
        size = os.path.getsize(tmp_path / live)
        checkpoint.save(target, SRNClassifier(rng=0))
        assert temporaries(tmp_path) == [live]
        assert os.path.getsize(tmp_path / live) == size
    finally:
        kill(proc)


def _dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_dead_writers_of_the_same_target_on_this_host_are_removed(tmp_path):
    target = tmp_path / "ckpt.npz"
    dead = _dead_pid()
    keep = [f".other.npz.{dead}@{_io._host()}.0123456789ab.tmp",       # another target
            f".ckpt.npz.{dead}@another-host.0123456789ab.tmp",          # another host
            ".ckpt.npz.0123456789ab.tmp",                               # old format: unknown
            f".ckpt.npz.{dead}@{_io._host()}.0123456789ab.tmp.bak",     # not a temporary
            f".ckpt.npz.{os.getpid()}@{_io._host()}.0123456789ab.tmp"]  # this live process
    stale = f".ckpt.npz.{dead}@{_io._host()}.fedcba987654.tmp"
    for name in keep + [stale]:
        (tmp_path / name).write_bytes(b"partial")
    checkpoint.save(target, SRNClassifier(rng=0))
    assert sorted(os.listdir(tmp_path)) == sorted(keep + ["ckpt.npz"])


def test_a_long_target_name_gets_a_temporary_name_the_file_system_accepts(tmp_path):
    target = tmp_path / ("c" * 240 + ".npz")
    checkpoint.save(target, SRNClassifier(rng=0))
    assert os.listdir(tmp_path) == [target.name]


def test_saving_onto_a_folder_is_refused_before_writing(tmp_path):
    (tmp_path / "ckpt.npz").mkdir()
    with pytest.raises(IsADirectoryError, match="is a folder, expected the path of a file"):
        checkpoint.save(tmp_path / "ckpt.npz", SRNClassifier(rng=0))
    assert os.listdir(tmp_path) == ["ckpt.npz"] and os.listdir(tmp_path / "ckpt.npz") == []


# ---- save writes only what load reads back ---------------------------------------------------

@pytest.mark.parametrize("value", [np.array(["a"]), np.zeros(2, dtype=[("a", "<f8")]),
                                   np.zeros(2, dtype="M8[s]")], ids=["str", "record", "date"])
def test_save_refuses_arrays_load_would_refuse(tmp_path, value):
    with pytest.raises(TypeError, match="only numeric and bool arrays can be saved"):
        checkpoint.save(tmp_path / "c.npz", arrays={"x": value})
    assert os.listdir(tmp_path) == []


def test_save_refuses_names_and_configs_load_would_refuse(tmp_path):
    with pytest.raises(ValueError, match="unexpected member 'extra/.npy'.*load would refuse"):
        checkpoint.save(tmp_path / "c.npz", arrays={"": np.zeros(1)})
    model = SRNClassifier(rng=0)
    model.get_config = lambda: [1, 2]
    with pytest.raises(ValueError, match="'model_config' to be a dict or null.*load would"):
        checkpoint.save(tmp_path / "c.npz", model)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop"])
def test_every_optimiser_round_trips_through_the_checks(tmp_path, name):
    model = SRNClassifier(hidden=4, embed=3, rng=0)
    kwargs = {"SGD": dict(momentum=0.9, nesterov=True), "RMSprop": dict(centered=True,
                                                                         momentum=0.5)}
    opt = getattr(optim, name)(model.parameters(), lr=0.01, **kwargs.get(name, {}))
    crit = nn.CrossEntropyLoss()
    crit(model(np.array([[1, 2, 3]])), np.array([1]))
    model.backward(crit.backward())
    opt.step()
    checkpoint.save(tmp_path / "c.npz", model, opt)
    fresh = SRNClassifier(hidden=4, embed=3, rng=9)
    fresh_opt = getattr(optim, name)(fresh.parameters())
    checkpoint.load(tmp_path / "c.npz", fresh, fresh_opt)
    def plain(o):
        return json.loads(json.dumps(o._hyperparameters()))     # Adam's betas: tuple or list
    assert plain(fresh_opt) == plain(opt)
    for a, b in zip(model.parameters(), fresh.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
