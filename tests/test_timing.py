"""coursepkg.timing: the best of a few runs, blocks of calls, argument checks."""

import time

import pytest

from coursepkg.timing import best_time, block_time


def test_single_calls_by_default():
    calls = []
    best_time(lambda: calls.append(1), repeats=4)
    assert len(calls) == 4


def test_best_time_is_the_fastest_run():
    durations = iter([0.03, 0.002, 0.03])
    t = best_time(lambda: time.sleep(next(durations)), repeats=3)
    assert 0.002 <= t < 0.02


def test_block_repeats_a_fast_function_and_averages():
    calls = []
    t = block_time(lambda: calls.append(1), min_block=0.01)
    assert len(calls) > 10
    assert 0 < t < 0.01 / 10


@pytest.mark.parametrize("kwargs, message", [({"repeats": 0}, "repeats"), ({"repeats": 1.5}, "repeats"),
                                             ({"min_block": -1}, "min_block")])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        best_time(lambda: None, **kwargs)
