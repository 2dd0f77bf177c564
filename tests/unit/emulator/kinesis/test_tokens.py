from __future__ import annotations

import pytest

from emulator.aws.errors import InvalidArgumentException
from emulator.kinesis.tokens import make_token, open_token, shard_index


def test_tokens_round_trip() -> None:
    token = make_token({"name": "orders", "after": "shardId-000000000001"})
    assert open_token(token, "name") == "orders"
    assert open_token(token, "after") == "shardId-000000000001"


@pytest.mark.parametrize("token", ["", "%%%", "bm90IGpzb24=", make_token({"other": "x"})])
def test_foreign_tokens_are_invalid_arguments(token: str) -> None:
    with pytest.raises(InvalidArgumentException, match="NextToken"):
        open_token(token, "name")


def test_shard_ids() -> None:
    assert shard_index("shardId-000000000003") == 3
    assert shard_index("7") == 7
    assert shard_index("shardId-x") is None
    assert shard_index("shardId-0000000000001") == 1
    assert shard_index("shard-2") == 2
    assert shard_index("any-thing-0004") == 4
    assert shard_index("shardId-") is None
    assert shard_index("shardId-1a") is None
