"""The relay's publish order: time order across keys, ``order`` within a key."""

from bson import ObjectId

from shared.outbox import in_publish_order


def row(key: str, order: int) -> dict[str, object]:
    return {"key": key, "order": order, "at": ObjectId()}


def test_each_key_follows_its_order_even_when_written_out_of_time_order() -> None:
    # ObjectIds of two replicas need not follow commit order: b:2 may look older than b:1.
    a1, b2, a2, b1, c1 = row("a", 1), row("b", 2), row("a", 2), row("b", 1), row("c", 1)
    published = in_publish_order([c1, b1, a2, b2, a1])
    assert [(r["key"], r["order"]) for r in published] == [
        ("a", 1), ("b", 1), ("a", 2), ("b", 2), ("c", 1)
    ]


def test_rows_of_distinct_keys_keep_their_time_order() -> None:
    rows = [row(f"k{i}", 1) for i in range(20)]
    assert in_publish_order(list(reversed(rows))) == rows
