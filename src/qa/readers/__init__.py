"""Readers: the extractive reader, and language-model readers behind the same interface."""

from qa.readers.base import Draft, Reader, ReadRequest, Sentence

__all__ = ["Draft", "ReadRequest", "Reader", "Sentence"]
