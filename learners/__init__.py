"""Backbones, sources and the transfer / meta / hybrid / scratch learner families.

Empty until the learners issue lands; it may import :mod:`meta_features` only.
"""
