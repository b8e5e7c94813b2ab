"""Small reference models built only from tinynn.nn, each citing where its design comes from."""
from .lstm_classifier import LSTMClassifier

__all__ = ["LSTMClassifier"]
