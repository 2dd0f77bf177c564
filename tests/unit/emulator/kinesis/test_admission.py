from __future__ import annotations

from emulator.aws.admission import InFlightBudget


def test_records_beyond_the_budget_are_refused_until_room_is_given_back() -> None:
    budget = InFlightBudget(max_records=3, max_bytes=1000)
    assert [budget.try_take(10) for _ in range(5)] == [True, True, True, False, False]
    assert budget.refused == 2
    budget.give_back(2, 20)
    assert budget.try_take(10)
    assert budget.try_take(10)
    assert not budget.try_take(10)


def test_bytes_count_and_a_lone_large_record_still_goes() -> None:
    budget = InFlightBudget(max_records=100, max_bytes=100)
    assert budget.try_take(2000)  # nothing in flight: taken alone
    assert not budget.try_take(1)
    budget.give_back(1, 2000)
    assert budget.try_take(60)
    assert not budget.try_take(60)
    assert budget.try_take(40)
    assert (budget.records, budget.bytes) == (2, 100)
