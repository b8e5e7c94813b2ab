"""pytest.raises matching an exception's whole message, literally: tinynn's messages name the op
and the shapes or values at fault, and the tests that guard that rule check them word for word."""
import re

import pytest


def raises(exc, message):
    """pytest.raises(exc) whose message must be exactly `message` (no regular expression)."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")
