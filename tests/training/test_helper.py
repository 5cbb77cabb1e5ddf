"""The helper thread of a lone model's step: same bytes as one thread, errors surface."""

import pytest
import torch

from lilyvae.training.config import make_config
from lilyvae.training.helper import StepHelper
from lilyvae.training.pack_run import MemberSpec
from lilyvae.training.trainer import scale_for_training, train_members


@pytest.mark.parametrize(
    "model,recipe,missing",
    [
        ("unsupervised", "standard", "drop"),
        ("semisupervised", "hybrid", "drop"),  # masks, clips, the head's branch
        ("semisupervised", "standard", "mask"),  # missing-value indicators
    ],
)
def test_helper_thread_gives_the_bytes_of_one_thread(data, model, recipe, missing):
    _, X, labels = scale_for_training(data.rows_for(missing))
    semi = model == "semisupervised"
    config = make_config(model, recipe, epochs=2, batch_size=128, seed=5, missing=missing)
    runs = {}
    for helper_thread in (False, True):
        (result,) = train_members(
            X,
            labels if semi else None,
            [MemberSpec(5)],
            config,
            len(data.class_names) if semi else None,
            helper_thread=helper_thread,
        )
        runs[helper_thread] = result
    one, two = runs[False], runs[True]
    state_one, state_two = one.model.state_dict(), two.model.state_dict()
    assert state_one.keys() == state_two.keys()
    assert all(torch.equal(state_one[k], state_two[k]) for k in state_one)
    drop_time = {k: v for k, v in one.history.items() if k != "epoch_seconds"}
    assert drop_time == {k: v for k, v in two.history.items() if k != "epoch_seconds"}


def test_helper_runs_jobs_in_order_and_reraises_their_errors():
    helper = StepHelper(flush_denormal=False)
    seen = []
    try:
        first = helper.submit(seen.append, 1)
        helper.submit(seen.append, 2)
        helper.wait(first)
        assert seen[0] == 1
        helper.submit(lambda: 1 / 0)
        helper.submit(seen.append, 3)
        with pytest.raises(ZeroDivisionError):
            helper.wait()
        assert seen == [1, 2, 3]  # a failed job does not stop the ones after it
        helper.submit(seen.append, 4)
        helper.wait()  # the error was reported once
        assert seen == [1, 2, 3, 4]
    finally:
        helper.close()
