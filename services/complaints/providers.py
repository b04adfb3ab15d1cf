"""The complaints service's own dependency: the keyring that encrypts complainants'
identities (pii.py), from LIUHEN_PII_KEY.

Without a valid key the service does not start: it would otherwise have to refuse
every named complaint at intake, or keep identities readable, and an operator would
learn of it from the first complainant turned away.
"""

from nameko.extensions import DependencyProvider

from . import pii


class PiiKeyring(DependencyProvider):
    def setup(self):
        key = pii.parse_master_key(self.container.config.get("LIUHEN_PII_KEY"))
        self.keyring = pii.Keyring(key)

    def get_dependency(self, worker_ctx):
        return self.keyring
