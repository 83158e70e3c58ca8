"""The web service: thin FastAPI routes over the same :class:`~csbot.serve.assistant.Assistant` the CLI uses."""
