"""Composite models of the later chapters, built from :mod:`coursepkg.nn` modules."""

from .seq2seq import Seq2Seq

__all__ = ["Seq2Seq"]
