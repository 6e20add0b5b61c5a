"""The recommender: a meta-model over the knowledge base, and the explained recommendation."""

from advisor.recommender.model import MetaModel, task_table
from advisor.recommender.recommend import Recommender

__all__ = ["MetaModel", "Recommender", "task_table"]
