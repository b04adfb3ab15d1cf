"""Event schemas by (type, version), upcasting of old versions, public payloads.

Every event type a service appends is registered here with one marshmallow schema per
version. What leaves the platform (AMQP, webhooks, feeds) is the event upcast to its
latest version and dumped through that schema, so only declared fields go out: a field
a service keeps internally (a complainant's contact, say) is never published unless a
schema names it. An unregistered type is published with its data withheld.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError

Upcaster = Callable[[dict], dict]


class UnknownEventType(LookupError):
    pass


@dataclass
class Registry:
    schemas: dict[tuple[str, int], type[Schema]] = field(default_factory=dict)
    upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)  # type -> producing service
    # Types whose `reason` may be published. A reason is free text a person wrote
    # (why rejected, why returned, a ruling) and may name the complainant, so it is
    # withheld unless the type says its reasons are fixed phrases or fit to publish.
    public_reasons: set[str] = field(default_factory=set)
    _instances: dict[tuple[str, int], Schema] = field(default_factory=dict, repr=False)

    def schema(self, type_: str, version: int) -> Schema:
        """One instance per schema: building a marshmallow Schema is costly."""
        if (type_, version) not in self._instances:
            self._instances[(type_, version)] = self.schemas[(type_, version)]()
        return self._instances[(type_, version)]

    def register(
        self, type_: str, version: int = 1, *, service: str, public_reason=False
    ):
        """Class decorator: `@REGISTRY.register("ComplaintReceived", 1, service=..)`."""

        def decorate(schema: type[Schema]) -> type[Schema]:
            if (type_, version) in self.schemas:
                raise ValueError(f"{type_} v{version} is registered twice")
            self.schemas[(type_, version)] = schema
            self.owners[type_] = service
            if public_reason:
                self.public_reasons.add(type_)
            return schema

        return decorate

    def upcaster(self, type_: str, from_version: int):
        """Function decorator: turns data of `from_version` into `from_version + 1`."""

        def decorate(fn: Upcaster) -> Upcaster:
            self.upcasters[(type_, from_version)] = fn
            return fn

        return decorate

    def latest(self, type_: str) -> int:
        versions = [v for (t, v) in self.schemas if t == type_]
        if not versions:
            raise UnknownEventType(f"event type {type_} is not registered in contracts")
        return max(versions)

    def upcast(self, type_: str, version: int, data: dict) -> tuple[int, dict]:
        latest = self.latest(type_)
        while version < latest:
            step = self.upcasters.get((type_, version))
            if step is None:
                raise UnknownEventType(f"no upcaster for {type_} from v{version}")
            data, version = step(dict(data)), version + 1
        return version, data

    def validate(self, type_: str, version: int, data: dict) -> dict:
        """Load `data` through its schema; raises ValidationError naming the fields."""
        if (type_, version) not in self.schemas:
            raise UnknownEventType(f"event type {type_} v{version} is not registered")
        return self.schema(type_, version).load(data)

    def public(self, type_: str, version: int, data: dict) -> tuple[int, dict | None]:
        """(version, payload) as published; payload None for an unregistered type."""
        try:
            version, data = self.upcast(type_, version, data)
        except UnknownEventType:
            return version, None
        if (type_, version) not in self.schemas:  # newer than this registry knows
            return version, None
        return version, self.schema(type_, version).dump(data)


_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def routing_key(district: str, category: str, type_: str) -> str:
    """`binhai`, `complaint`, `ComplaintDispatched` -> `binhai.complaint.dispatched`."""
    snake = _CAMEL.sub("_", type_).lower()
    prefix = category + "_"
    action = snake[len(prefix) :] if snake.startswith(prefix) else snake
    return f"{district}.{category}.{action}"


REGISTRY = Registry()

__all__ = ["REGISTRY", "Registry", "UnknownEventType", "ValidationError", "routing_key"]
