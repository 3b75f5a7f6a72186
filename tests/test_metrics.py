"""Tests for gankit.metrics: the quality figures of images and of a generator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import linalg
from torch import nn
from torchmetrics.image.fid import FrechetInceptionDistance

import gankit.metrics
from gankit import Generator
from gankit.classifier import ClassifierFeatures, load_classifier
from gankit.metrics import evaluate, evaluate_images, generate

N = 1000  # images per evaluation of given images: stable enough, fast on a CPU
N_GEN = 200  # images per evaluation of a generator (a DCGAN is slow on a CPU)


def test_real_images_sit_at_the_floor(mnist):
    pick = torch.randperm(len(mnist), generator=torch.Generator().manual_seed(0))
    real = mnist.images[pick[:N]]  # uint8 is accepted as it is
    f = evaluate_images(real, "mnist", download=False)
    # At n = 1000 the floor itself varies by about a factor 2 between subsets.
    assert 0.3 < f["fd_ratio"] < 3.0
    assert abs(f["kid_mean"]) < 3 * f["kid_std"] + 1e-3
    assert f["classes_covered"] == 10 and f["missing_classes"] == []
    assert f["class_tv"] < 0.1  # two samples of 1000 differ by about 0.05
    assert f["mean_confidence"] > 0.95
    assert sum(f["class_shares"]) == pytest.approx(1.0)


def test_uniform_noise_is_far_from_the_data():
    noise = torch.rand(N, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    f = evaluate_images(noise * 2 - 1, "mnist", download=False)
    assert f["fd_ratio"] > 100
    assert f["kid_mean"] > 20 * max(f["kid_floor"], f["kid_std"])


def test_missing_fraction_sets_which_classes_count_as_missing(mnist):
    digits = mnist.images[:N]
    usual = evaluate_images(digits, "mnist", download=False)
    strict = evaluate_images(digits, "mnist", download=False, missing_fraction=1.0)
    below_a_tenth = [c for c, s in enumerate(strict["class_shares"]) if s < 0.1]
    assert usual["missing_classes"] == [] and usual["classes_covered"] == 10
    assert strict["missing_classes"] == below_a_tenth != []
    assert strict["classes_covered"] == 10 - len(below_a_tenth)


def test_an_interrupted_evaluation_leaves_no_trace_in_the_next(mnist, monkeypatch):
    digits = mnist.images[:N]
    clean = evaluate_images(digits, "mnist", download=False, batch_size=250)
    calls = {"n": 0}
    real_to_signed_unit = gankit.metrics.to_signed_unit

    def interrupt_on_the_third_batch(x):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # two batches are already in the metrics
        return real_to_signed_unit(x)

    monkeypatch.setattr(gankit.metrics, "to_signed_unit", interrupt_on_the_third_batch)
    with pytest.raises(KeyboardInterrupt):
        evaluate_images(digits, "mnist", download=False, batch_size=250)
    monkeypatch.undo()
    again = evaluate_images(digits, "mnist", download=False, batch_size=250)
    assert again == clean


def test_images_of_a_single_class_are_flagged_by_coverage(mnist):
    threes = mnist.images[mnist.labels == 3][:N]
    f = evaluate_images(threes, "mnist", download=False)
    assert f["class_shares"][3] > 0.95
    assert f["classes_covered"] == 1
    assert f["missing_classes"] == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert f["class_tv"] > 0.8
    assert f["fd_ratio"] > 20


def test_torchmetrics_frechet_distance_matches_a_direct_computation(mnist_test, mnist):
    features = ClassifierFeatures(load_classifier("mnist"))
    a = mnist_test.batch(torch.arange(500))
    b = mnist.batch(torch.arange(500))
    fid = FrechetInceptionDistance(features)
    fid.update(a, real=True)
    fid.update(b, real=False)
    fa, fb = features(a).double().numpy(), features(b).double().numpy()
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    cov_a, cov_b = np.cov(fa, rowvar=False), np.cov(fb, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    direct = ((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root)
    assert float(fid.compute()) == pytest.approx(direct, rel=1e-3)


def test_evaluate_is_reproducible_and_leaves_the_generator_as_it_was():
    with torch.random.fork_rng():
        torch.manual_seed(0)
        g = Generator(channels=1)
    before = {k: v.clone() for k, v in g.state_dict().items()}
    figures = evaluate(g, "mnist", N_GEN, download=False)
    assert g.training
    assert all(torch.equal(v, before[k]) for k, v in g.state_dict().items())
    # The same seed draws the same latent vectors, real subsets and KID subsets.
    images = generate(g, N_GEN, seed=0)
    assert figures == evaluate_images(images, "mnist", download=False)
    assert figures["fd_ratio"] > 5  # an untrained generator is far from digits


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: evaluate_images(torch.zeros(N, 1, 32, 32), "svhn"), "svhn"),
        (lambda: evaluate_images(torch.zeros(1, 1, 32, 32)), "n must be"),
        (lambda: evaluate_images(torch.zeros(10_001, 1, 32, 32)), "n must be"),
        (lambda: evaluate_images(torch.zeros(N, 3, 32, 32)), "channel"),
        (lambda: evaluate_images(torch.full((N, 1, 32, 32), 255.0)), r"\[-1, 1\]"),
        (lambda: evaluate_images(torch.full((N, 1, 32, 32), torch.nan)), "finite"),
        (lambda: evaluate_images(torch.zeros(N, 28, 28, dtype=torch.uint8)), "shape"),
        (lambda: evaluate(Generator(channels=3), "mnist", N), "1-channel"),
        (lambda: evaluate(nn.Linear(2, 2), "mnist", N), "z_dim"),
        (lambda: evaluate(Generator(channels=1), "mnist", N, batch_size=0), "batch"),
        (lambda: generate(Generator(channels=1), 0), "n must be a whole number"),
        (lambda: evaluate_images(torch.zeros(N, 1, 32, 32), device="gpu"), "device"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
