"""The gateway's bearer tokens, as `liuhen projections rebuild` sees them: projected
from TokenIssued and TokenRevoked on `token-<id>` (the event and the row keep the
secret's hash only). The table is under row-level security: each token is folded
under its own district, like every read model.
"""

from eventlog.rebuild import Projection, per_event

from . import auth

REBUILD = Projection(
    name="gateway",
    about="bearer tokens (their secrets' hashes)",
    tables=("gateway.tokens",),
    categories=frozenset({"token"}),
    project=per_event(auth.project),
)
