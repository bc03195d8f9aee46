"""The spinnenweb check-in: its content model, score parsing and summaries."""
