"""Datasets and minibatching: DigitSum, character corpora, toy tasks, the dates
translation task and a DataLoader."""
from .dates import DatePairs, date_pairs, date_splits
from .digitsum import DigitSum, load_digitsum, save_digitsum
from .loader import DataLoader, collate
from .text import CharCorpus, default_corpus
from .toy import HelloOhlol, TranslationPairs

__all__ = ["DataLoader", "collate", "DigitSum", "save_digitsum", "load_digitsum",
           "CharCorpus", "default_corpus", "HelloOhlol", "TranslationPairs",
           "DatePairs", "date_pairs", "date_splits"]
