"""Which real images each step sees (``gankit.batches``): the data's entry
check, and the batch order, a function of the seed and the step alone."""

import pytest
import torch

from gankit import Trainer, synthetic_dataset
from gankit.batches import BatchOrder
from gankit.distributed import Ranks


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (synthetic_dataset(16, channels=3), r"\(N, 1, 32, 32\) to match the config"),
        (torch.rand(16, 1, 32, 32) * 255, r"\[-1, 1\]"),
        (torch.zeros(16, 1, 32, 32, dtype=torch.uint8), "wrap uint8 images"),
        (synthetic_dataset(4, channels=1), "fewer than one batch"),
        (None, "Trainer needs data"),
    ],
)
def test_bad_data_is_refused_before_training(data, words, tiny_cfg):
    with pytest.raises(ValueError, match=words):
        Trainer(tiny_cfg, data, device="cpu", progress=False)


def test_float64_data_trains_as_float32(tiny_cfg):
    data = synthetic_dataset(16, channels=1, seed=0).images.double() / 127.5 - 1
    trainer = Trainer(tiny_cfg, data, device="cpu", progress=False)
    assert trainer.data.dtype == torch.float32
    assert trainer.fit(2).step == [2]


def test_float_data_in_range_is_accepted(tiny_cfg):
    trainer = Trainer(
        tiny_cfg, torch.rand(16, 1, 32, 32) * 2 - 1, device="cpu", progress=False
    )
    trainer.fit(1)
    assert trainer.step == 1


def numbered(n: int) -> torch.Tensor:
    """``n`` one-pixel "images" whose value is their index: ``(n, 1)``."""
    return torch.arange(n, dtype=torch.float32).unsqueeze(1)


def test_the_same_seed_and_step_give_the_same_batch():
    walked = BatchOrder(numbered(20), 4, seed=3)
    for step in range(7):  # into the second epoch
        walked.batch(step)
    jumped = BatchOrder(numbered(20), 4, seed=3)  # straight to step 7
    assert torch.equal(walked.batch(7), jumped.batch(7))
    other = BatchOrder(numbered(20), 4, seed=4)
    assert not torch.equal(other.batch(7), jumped.batch(7))


def test_each_epoch_sees_every_image_once_in_a_new_order():
    order = BatchOrder(numbered(20), 4, seed=0)
    assert order.steps_per_epoch == 5
    epochs = [
        torch.cat([order.batch(s) for s in range(e * 5, e * 5 + 5)]).flatten()
        for e in (0, 1)
    ]
    for seen in epochs:
        assert sorted(seen.tolist()) == list(range(20))
    assert not torch.equal(epochs[0], epochs[1])


def test_each_process_takes_its_share_of_the_global_batch():
    shares = [
        BatchOrder(numbered(24), 6, seed=0, ranks=Ranks(r, 3, torch.device("cpu")))
        for r in range(3)
    ]
    alone = BatchOrder(numbered(24), 6, seed=0).batch(2).flatten()
    parts = [s.batch(2).flatten() for s in shares]
    assert all(len(p) == 2 for p in parts)
    assert sorted(torch.cat(parts).tolist()) == sorted(alone.tolist())


def test_a_batch_size_the_processes_cannot_share_is_refused():
    ranks = Ranks(rank=0, world_size=3, device=torch.device("cpu"))
    with pytest.raises(ValueError, match="batch_size 8 is not a multiple of the 3"):
        BatchOrder(numbered(24), 8, seed=0, ranks=ranks)
