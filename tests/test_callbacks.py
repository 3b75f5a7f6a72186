"""What training reports (``gankit.callbacks``): the History, the figures
summed between logs, and the hooks a notebook watches training with."""

import pytest
import torch

from gankit import LambdaCallback
from gankit.callbacks import FigureSums, History


def test_history_callbacks_and_fixed_grid(shapes, tiny_cfg, train):
    seen = {"step": 0, "log": 0, "sample": 0, "end": 0}
    cb = LambdaCallback(
        on_step=lambda t, m: seen.__setitem__("step", seen["step"] + 1),
        on_log=lambda t, r: seen.__setitem__("log", seen["log"] + 1),
        on_sample=lambda t, im: seen.__setitem__("sample", seen["sample"] + 1),
        on_end=lambda t: seen.__setitem__("end", seen["end"] + 1),
    )
    trainer = train(tiny_cfg, shapes, 4, callbacks=[cb])
    assert seen == {"step": 4, "log": 2, "sample": 2, "end": 1}
    h = trainer.history
    assert h.step == [2, 4] and len(h) == 2
    assert all(0 <= p <= 1 for p in h.d_real + h.d_fake + h.d_accuracy)
    (s0, img0), (s1, img1) = h.samples
    assert (s0, s1) == (2, 4)
    assert img0.shape == (36, 1, 32, 32) and img0.dtype == torch.uint8
    assert not torch.equal(img0, img1)  # the generator moved


def figures(d_loss: float, d_real: float) -> dict[str, torch.Tensor]:
    return {"d_loss": torch.tensor(d_loss), "d_real": torch.tensor(d_real)}


def test_figure_sums_give_the_mean_of_each_figure_per_step():
    sums = FigureSums()
    sums.add(figures(1.0, 0.5))
    sums.add(figures(3.0, 0.25))
    totals, means = sums.means()
    assert totals.tolist() == [4.0, 0.75]
    assert means == {"d_loss": 2.0, "d_real": 0.375}


def test_figure_sums_add_bfloat16_figures_in_float32():
    sums = FigureSums()
    for _ in range(3):
        sums.add({"d_real": torch.tensor(0.3, dtype=torch.bfloat16)})
    assert sums.sums["d_real"].dtype == torch.float32
    assert sums.means()[1]["d_real"] == pytest.approx(0.30078125)  # 0.3 in bf16


def test_figure_sums_continue_from_their_state():
    sums = FigureSums()
    sums.add(figures(1.0, 0.5))
    sums.add(figures(3.0, 0.25))
    state = sums.state(sums.means()[0])
    again = FigureSums()
    again.add(figures(9.0, 9.0))  # whatever was there is replaced
    again.load(state, torch.device("cpu"))
    assert again.steps == 2
    again.add(figures(2.0, 0.75))
    assert again.means()[1] == {"d_loss": 2.0, "d_real": 0.5}


def test_figure_sums_load_nothing_unlogged_as_empty():
    sums = FigureSums()
    sums.add(figures(1.0, 0.5))
    sums.load(None, torch.device("cpu"))
    assert sums.steps == 0 and sums.sums == {}


def test_figure_sums_refuse_a_mean_of_nothing():
    sums = FigureSums()
    with pytest.raises(RuntimeError, match="nothing to log yet"):
        sums.means()
    sums.add(figures(1.0, 0.5))
    sums.clear()
    with pytest.raises(RuntimeError, match="nothing to log yet"):
        sums.means()


def test_history_appends_each_series_from_a_record():
    history = History()
    record = {name: float(i) for i, name in enumerate(History().scalars())}
    history.append(record)
    history.samples.append((1, torch.zeros(1, 1, 2, 2, dtype=torch.uint8)))
    assert len(history) == 1
    assert history.scalars() == {k: [v] for k, v in record.items()}  # no samples


def test_a_lambda_callback_overrides_only_the_hooks_it_is_given():
    logged = []
    cb = LambdaCallback(on_log=lambda t, r: logged.append(r))
    cb.on_log(None, {"d_loss": 1.0})
    assert logged == [{"d_loss": 1.0}]
    assert cb.on_step(None, {}) is None and cb.on_end(None) is None  # Callback's
