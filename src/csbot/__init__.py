"""csbot: a retrieval-based study assistant for the 客户服务管理师 certification."""

__version__ = "0.1.0"
