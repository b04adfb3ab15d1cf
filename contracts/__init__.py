from . import complaints, directory, gateway  # noqa: F401  (register schemas)
