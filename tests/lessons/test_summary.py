import pytest
import torch
from torch import nn

from gankit import Discriminator, Generator
from gankit.lessons.summary import LayerRow, format_layer_table, layer_table


@pytest.fixture(scope="module")
def mnist_generator() -> Generator:
    # Built once: initialising five million weights is the slow part here.
    return Generator(channels=1)


def generator_rows(g: Generator) -> list[LayerRow]:
    return layer_table(g, torch.zeros(2, 100))


def test_generator_total_matches_the_articles_count_for_mnist(mnist_generator):
    rows = generator_rows(mnist_generator)
    assert sum(r.params for r in rows) == 4_928_769


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("image_size", [32, 64])
def test_rows_sum_to_the_models_parameters_and_end_on_the_image(channels, image_size):
    g = Generator(channels=channels, image_size=image_size)
    rows = layer_table(g, torch.zeros(3, 100))
    assert sum(r.params for r in rows) == sum(p.numel() for p in g.parameters())
    assert rows[-1] == LayerRow(
        "to_image",
        "ConvTranspose2d",
        (3, channels, image_size, image_size),
        g.to_image.weight.numel() + channels,
    )


def test_rows_follow_execution_order_and_record_each_output_shape(mnist_generator):
    rows = generator_rows(mnist_generator)
    assert [r.name for r in rows[:4]] == ["project", "stem.0", "stem.1", "up.0.0"]
    assert rows[0].output_shape == (2, 8192)
    assert rows[1].output_shape == (2, 512, 4, 4)
    sides = [r.output_shape[-1] for r in rows if r.kind == "ConvTranspose2d"]
    assert sides == [8, 16, 32]


def test_a_parametrized_layer_is_one_row_with_its_original_weight_counted():
    d = Discriminator(channels=1, spectral_norm=True)
    rows = layer_table(d, torch.zeros(2, 1, 32, 32))
    assert not any("parametrizations" in r.name for r in rows)
    assert sum(r.params for r in rows) == sum(p.numel() for p in d.parameters())
    assert rows[-1].output_shape == (2, 1)


@pytest.mark.parametrize("training", [True, False])
def test_training_flag_is_restored_and_batch_norm_statistics_do_not_move(
    mnist_generator, training
):
    g = mnist_generator.train(training)
    before = g.stem[0].running_mean.clone()
    layer_table(g, torch.rand(4, 100) * 2 - 1)
    assert g.training is training
    assert all(m.training is training for m in g.modules())
    assert torch.equal(g.stem[0].running_mean, before)


def test_hooks_are_removed_after_the_run(mnist_generator):
    g = mnist_generator
    layer_table(g, torch.zeros(1, 100))
    assert all(not m._forward_hooks for m in g.modules())


def test_training_flag_is_restored_when_the_model_fails(mnist_generator):
    g = mnist_generator.train()
    with pytest.raises(ValueError, match="z must have shape"):
        layer_table(g, torch.zeros(2, 7))
    assert g.training
    assert all(not m._forward_hooks for m in g.modules())


def test_format_is_deterministic_and_shows_every_row_and_the_total(mnist_generator):
    text = format_layer_table(generator_rows(mnist_generator))
    assert text == format_layer_table(generator_rows(mnist_generator))
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "parameters"]
    assert lines[-1].split() == ["total", "4,928,769"]
    assert "(N, 512, 4, 4)" in text
    assert len(lines) == 10 + 4  # header, rule, rows, rule, total
    assert len({len(line) for line in lines[1:-1] if line.startswith("-")}) == 1


def test_format_writes_a_vector_shape_as_a_one_tuple():
    text = format_layer_table([LayerRow("fc", "Linear", (5,), 3)])
    assert "(N,)" in text


def test_format_right_aligns_the_parameter_column():
    text = format_layer_table(
        [LayerRow("a", "Linear", (2, 3), 12), LayerRow("b", "ReLU", (2, 3), 0)]
    )
    body = text.splitlines()[2:4]
    assert body[0].endswith("12") and body[1].endswith(" 0")
    assert len(body[0]) == len(body[1])


@pytest.mark.parametrize(
    "model, example",
    [
        ("not a model", torch.zeros(1, 100)),
        (nn.Linear(2, 2), [[0.0, 0.0]]),
        (nn.Linear(2, 2), torch.zeros(0, 2)),
        (nn.Linear(2, 2), torch.tensor(1.0)),
    ],
)
def test_bad_input_raises_value_error(model, example):
    with pytest.raises(ValueError):
        layer_table(model, example)


def test_a_leaf_returning_a_non_tensor_raises_value_error():
    model = nn.Sequential(nn.LSTM(2, 2))
    with pytest.raises(ValueError, match="one tensor"):
        layer_table(model, torch.zeros(3, 1, 2))


def test_an_empty_table_raises_value_error():
    with pytest.raises(ValueError):
        format_layer_table([])


def test_a_model_that_is_one_layer_is_its_own_row():
    rows = layer_table(nn.Linear(2, 3), torch.zeros(4, 2))
    assert rows == [LayerRow("", "Linear", (4, 3), 9)]
    assert "(model)" in format_layer_table(rows)
