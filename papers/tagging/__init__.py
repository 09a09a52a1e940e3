"""Tagging: rules curators control and a learned tagger that explains itself."""
