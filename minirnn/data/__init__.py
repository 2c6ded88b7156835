"""Datasets and minibatching: DigitSum, character corpora, toy tasks and a DataLoader."""
from .digitsum import DigitSum, load_digitsum, save_digitsum
from .loader import DataLoader, collate
from .text import CharCorpus, default_corpus
from .toy import HelloOhlol, TranslationPairs

__all__ = ["DataLoader", "collate", "DigitSum", "save_digitsum", "load_digitsum",
           "CharCorpus", "default_corpus", "HelloOhlol", "TranslationPairs"]
