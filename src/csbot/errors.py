"""Domain errors: each says what was wrong and how to fix it, in one line."""


class CsbotError(Exception):
    """Base of every error csbot reports to a user as one clean line."""


class CorpusError(CsbotError):
    """The corpus manifest or a raw document is missing or malformed."""


class UnknownDocumentError(CorpusError):
    """A doc_id that is not in the corpus manifest."""


class IndexMissingError(CsbotError):
    """No index has been built yet."""


class IndexStaleError(CsbotError):
    """The index was built from another corpus or model."""


class IndexCorruptError(CsbotError):
    """The index directory exists but a file in it cannot be read."""


class StoreUnavailableError(CsbotError):
    """The database holding the index cannot be reached (the service answers 503)."""


class ModelError(CsbotError):
    """The embedding model cannot be found, prepared or loaded."""


class QuestionError(CsbotError):
    """The question is empty or too long."""


class SettingsError(CsbotError):
    """A ``CSBOT_*`` environment variable (or a setting given in code) has an invalid value."""
