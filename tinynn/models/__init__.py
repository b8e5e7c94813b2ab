"""Small reference models built only from tinynn.nn, each citing where its design comes from."""
from .lstm_classifier import LSTMClassifier
from .gpt import GPT
from .transformer_classifier import TransformerClassifier

__all__ = ["LSTMClassifier", "GPT", "TransformerClassifier"]
