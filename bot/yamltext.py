"""Reading the YAML content files with libyaml's parser where it is installed.

PyYAML's C loader (``CSafeLoader``) builds the same Python objects as
``yaml.safe_load`` (the same safe constructor), about ten times faster: the
content is read at every start and every ``content reload``.
"""

from __future__ import annotations

from typing import Any

import yaml

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """``yaml.safe_load``, with the C parser when PyYAML was built with libyaml."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
