"""alliantiebot: chat bot of the Alliantie Positieve Gezondheid Zuid-Holland Noord."""

__version__ = "0.1.0"
