"""Tests for gankit.classifier: the shipped classifiers and their weights."""

from __future__ import annotations

import pytest
import torch

from gankit.classifier import (
    CLASS_NAMES,
    classifier_accuracy,
    classifier_manifest,
    classifier_paths,
    load_classifier,
)

DOCUMENTED_ACCURACY = {"mnist": 0.99, "fashion-mnist": 0.90}


@pytest.mark.parametrize("dataset", sorted(CLASS_NAMES))
def test_shipped_classifier_manifest_records_accuracy_and_how_it_was_made(dataset):
    weights, _ = classifier_paths(dataset)
    manifest = classifier_manifest(dataset)
    assert manifest["dataset"] == dataset
    assert manifest["test_accuracy"] >= DOCUMENTED_ACCURACY[dataset]
    assert manifest["command"].startswith("python scripts/train_classifier.py")
    assert {"seed", "gankit_version", "sha256"} <= set(manifest)
    assert weights.stat().st_size < 500_000  # float16, a few hundred KB


def test_shipped_mnist_classifier_labels_real_test_digits(mnist_test):
    model = load_classifier("mnist")
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert classifier_accuracy(model, mnist_test.subset(2000)) >= 0.98


def test_shipped_fashion_classifier_labels_real_test_clothes(fashion_mnist_test):
    model = load_classifier("fashion-mnist")
    assert classifier_accuracy(model, fashion_mnist_test.subset(1000)) >= 0.88


def test_an_unknown_device_is_a_clear_value_error():
    with pytest.raises(ValueError, match="device must be"):
        load_classifier("mnist", device="gpu")
