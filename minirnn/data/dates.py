"""Dates written the way people write them -> ISO 8601: a real character-level translation task.

    "3rd of March 1998", "03/03/98", "March 3, 1998", "3 Mar 1998", "Tuesday, March 3, 1998",
    "03.03.1998", "1998/03/03", "mar 3 98", ...                              -> "1998-03-03"

Dates run from 1950-01-01 to 2049-12-31, so a two-digit year is never ambiguous (50..99 ->
19yy, 00..49 -> 20yy). Slashed dates without a leading year are American, month first
("03/21/98"); dotted ones are European, day first ("21.03.1998"). Every form is a fixed
function of the date, so the mapping is learnable; the weekday, where written, is the true one.

Splits. ``sum(sizes)`` distinct dates are drawn with ``seed`` and cut into train, dev and test,
so no test *date* occurs in training in any form. Each date gets one form at random (same seed,
same pairs). The vocabularies are fixed (every character any form can write), so every split
and every seed shares them:
  source: '<pad>'=0, '<bos>'=1, '<eos>'=2, then the characters below, sorted
  target: '<pad>'=0, '<bos>'=1, '<eos>'=2, '-', '0'..'9'
"""
import datetime
import string

import numpy as np

from .toy import BOS, EOS, PAD, _PairArrays

FIRST, LAST = datetime.date(1950, 1, 1), datetime.date(2049, 12, 31)
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SIZES = (10_000, 1_000, 1_000)
SPLITS = ("train", "dev", "test")


def ordinal(day):
    """1 -> '1st', 2 -> '2nd', 3 -> '3rd', 11 -> '11th', 22 -> '22nd'."""
    if 10 <= day % 100 <= 20:
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th')}"


# Each form: date -> str. Names: d day, m month, y year, B month name, b its first 3 letters,
# A weekday name, a its first 3 letters (as strftime, but in English whatever the locale).
FORMATS = (
    lambda t: f"{ordinal(t.day)} of {MONTHS[t.month - 1]} {t.year}",          # 3rd of March 1998
    lambda t: f"{t.month:02d}/{t.day:02d}/{t.year % 100:02d}",                  # 03/03/98
    lambda t: f"{MONTHS[t.month - 1]} {t.day}, {t.year}",                       # March 3, 1998
    lambda t: f"{t.day} {MONTHS[t.month - 1][:3]} {t.year}",                    # 3 Mar 1998
    lambda t: f"{WEEKDAYS[t.weekday()]}, {MONTHS[t.month - 1]} {t.day}, {t.year}",
    lambda t: f"{t.day:02d}.{t.month:02d}.{t.year}",                            # 03.03.1998
    lambda t: f"{t.year}/{t.month:02d}/{t.day:02d}",                            # 1998/03/03
    lambda t: f"{MONTHS[t.month - 1][:3].lower()} {t.day} {t.year % 100:02d}",  # mar 3 98
    lambda t: f"{t.day} {MONTHS[t.month - 1]} {t.year}",                        # 3 March 1998
    lambda t: f"{WEEKDAYS[t.weekday()][:3]} {t.day} {MONTHS[t.month - 1][:3]} {t.year}",
    lambda t: f"the {ordinal(t.day)} of {MONTHS[t.month - 1].lower()}, {t.year}",
    lambda t: f"{MONTHS[t.month - 1].upper()} {t.day:02d} {t.year}",            # MARCH 03 1998
)

SOURCE_CHARS = sorted(set(" ,./" + string.digits + "".join(MONTHS + WEEKDAYS)
                          + "".join(MONTHS).lower() + "".join(MONTHS).upper()
                          + "stndrdthof" + "the"))
TARGET_CHARS = sorted(set("-" + string.digits))


def iso(date):
    """datetime.date -> 'YYYY-MM-DD'."""
    return date.isoformat()


def _check_sizes(sizes):
    if not (isinstance(sizes, (tuple, list)) and len(sizes) == 3):
        raise ValueError(f"expected sizes to be (train, dev, test), three integers, got {sizes!r}")
    for name, n in zip(SPLITS, sizes):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"expected the {name} size to be a positive integer, got {n!r}")
    days = (LAST - FIRST).days + 1
    if sum(sizes) > days:
        raise ValueError(f"expected at most {days} dates in all (one per day of "
                         f"{FIRST.year}..{LAST.year}), got sizes {tuple(sizes)}")
    return tuple(int(n) for n in sizes)


def date_pairs(split="train", sizes=SIZES, seed=0):
    """The (written date, ISO date) pairs of one split: a list of ``sizes[split]`` str pairs."""
    if split not in SPLITS:
        raise ValueError(f"expected split in {list(SPLITS)}, got {split!r}")
    sizes = _check_sizes(sizes)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"expected seed to be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    days = (LAST - FIRST).days + 1
    offsets = rng.choice(days, size=sum(sizes), replace=False)      # distinct dates
    forms = rng.integers(len(FORMATS), size=sum(sizes))
    start = sum(sizes[:SPLITS.index(split)])
    picked = slice(start, start + sizes[SPLITS.index(split)])
    pairs = []
    for offset, form in zip(offsets[picked], forms[picked]):
        date = FIRST + datetime.timedelta(days=int(offset))
        pairs.append((FORMATS[form](date), iso(date)))
    return pairs


class DatePairs(_PairArrays):
    """One split of the dates task, laid out as ``TranslationPairs`` (so a DataLoader batches it).

    split : 'train', 'dev' or 'test';  sizes : (train, dev, test) counts;  seed : int
    pairs : list of (source str, target str)
    With P pairs, S the longest source and T = 10 (every ISO date):
    source_ids (P, S), source_lengths (P,), decoder_input_ids (P, T+1) = <bos> + target,
    decoder_target_ids (P, T+1) = target + <eos>, target_lengths (P,), all int64, padded with 0.
    """

    source_vocab = [PAD, BOS, EOS] + SOURCE_CHARS
    target_vocab = [PAD, BOS, EOS] + TARGET_CHARS

    def __init__(self, split="train", sizes=SIZES, seed=0):
        self.split = split
        self.pairs = date_pairs(split, sizes, seed)
        self._lay_out(*zip(*self.pairs))


def date_splits(sizes=SIZES, seed=0):
    """(train, dev, test) DatePairs drawn together: disjoint dates."""
    return tuple(DatePairs(split, sizes, seed) for split in SPLITS)
