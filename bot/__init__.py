"""alliantiebot: chat bot of the Alliantie Positieve Gezondheid Zuid-Holland Noord."""

from __future__ import annotations

__version__ = "0.1.0"
