from . import complaints, directory, gateway, issues  # noqa: F401  (register schemas)
