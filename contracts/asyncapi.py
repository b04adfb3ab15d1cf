"""The AsyncAPI document of the live feed (`liuhen.events`), generated from the
registered event schemas. (Skeleton: filled in by the AsyncAPI work.)"""


def document() -> dict:
    return {"asyncapi": "3.0.0", "info": {"title": "Liuhen events", "version": "1"}}
