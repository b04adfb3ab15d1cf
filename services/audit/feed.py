"""The catch-up feed: a district's committed events after a position, paged.
(Skeleton: filled in by the feed work.)"""


def page(store, district: str, after: int, limit: int) -> dict:
    raise NotImplementedError
