"""gateway: the HTTP edge.

Owns: no data; authentication and district scope arrive with the complaints issue.
Listens to: HTTP on LIUHEN_HTTP (default 127.0.0.1:8000).
Emits: nothing; calls the domain services by RPC.
"""

import json

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from eventlog.providers import Database


class Gateway:
    name = "gateway"
    db = Database()

    @http("GET", "/v1/health")
    def health(self, request):
        head = self.db.execute("SELECT max(position) FROM eventlog.events").fetchone()[
            0
        ]
        body = {"status": "ok", "eventlog": {"head_position": head or 0}}
        return Response(json.dumps(body), mimetype="application/json")
