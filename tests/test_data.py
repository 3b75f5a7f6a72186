import hashlib
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from gankit import ImageData, load_dataset, synthetic_dataset
from gankit.data import (
    DEBIAN_FASHION_MNIST,
    DatasetNotFoundError,
    default_root,
    to_signed_unit,
    to_uint8,
)


def test_mnist_is_zero_padded_to_32_and_keeps_its_published_statistics(mnist):
    assert mnist.images.shape == (60_000, 1, 32, 32)
    assert mnist.images.dtype == torch.uint8
    border = torch.cat(
        [
            mnist.images[..., :2, :].flatten(),
            mnist.images[..., -2:, :].flatten(),
            mnist.images[..., :, :2].flatten(),
        ]
    )
    assert border.max() == 0  # the padding is black
    inner = mnist.images[..., 2:30, 2:30].float() / 255
    assert inner.mean().item() == pytest.approx(0.1307, abs=1e-4)
    assert inner.std().item() == pytest.approx(0.3081, abs=1e-4)
    assert torch.bincount(mnist.labels).tolist()[0] == 5923  # zeros in the train split


def test_mnist_test_split_has_ten_thousand_images():
    try:
        test = load_dataset("mnist", split="test", download=False)
    except DatasetNotFoundError:
        if os.environ.get("CI"):
            raise
        pytest.skip("MNIST not available locally")
    assert len(test) == 10_000


def test_batches_are_scaled_to_minus_one_one(mnist):
    x = mnist.batch(torch.arange(64))
    assert x.dtype == torch.float32 and x.shape == (64, 1, 32, 32)
    assert x.min().item() == -1.0 and x.max().item() == 1.0


def test_pixel_scaling_round_trips():
    pixels = torch.arange(256, dtype=torch.uint8)
    scaled = to_signed_unit(pixels)
    assert scaled[0] == -1 and scaled[-1] == 1
    assert torch.equal(to_uint8(scaled), pixels)


def test_image_data_feeds_a_dataloader():
    data = synthetic_dataset(20, channels=3)
    x, y = next(iter(DataLoader(data, batch_size=5)))
    assert x.shape == (5, 3, 32, 32) and y.shape == (5,)
    assert x.min() >= -1 and x.max() <= 1


def test_synthetic_dataset_is_deterministic_and_has_three_shapes():
    a, b = synthetic_dataset(64, seed=1), synthetic_dataset(64, seed=1)
    assert torch.equal(a.images, b.images)
    assert set(a.labels.tolist()) == {0, 1, 2}
    assert a.images.max() == 255 and a.images.min() == 0


def test_64_pixel_images_are_upscaled_in_chunks_as_in_one_go(monkeypatch):
    import gankit.data

    small = synthetic_dataset(10).images  # (10, 1, 32, 32) uint8
    monkeypatch.setattr(gankit.data, "_RESIZE_CHUNK", 3)  # 3 + 3 + 3 + 1
    chunked = gankit.data._fit_size(small, 64)
    whole = F.interpolate(small.float(), size=64, mode="bilinear", align_corners=False)
    assert chunked.dtype == torch.uint8 and chunked.shape == (10, 1, 64, 64)
    assert torch.equal(chunked, whole.round().clamp(0, 255).byte())


def test_missing_data_names_the_files_expected_and_gankit_data(tmp_path):
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("mnist", tmp_path, download=False)
    msg = str(info.value)
    assert str(tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte") in msg
    assert "GANKIT_DATA" in msg
    assert isinstance(info.value, FileNotFoundError)


def test_root_defaults_to_gankit_data(tmp_path, monkeypatch):
    monkeypatch.setenv("GANKIT_DATA", str(tmp_path))
    assert default_root() == tmp_path
    with pytest.raises(DatasetNotFoundError, match=str(tmp_path)):
        load_dataset("mnist", download=False)


def test_root_falls_back_to_a_per_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("GANKIT_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_root() == tmp_path / "gankit"


def write_svhn(path, n: int, seed: int = 0) -> str:
    """An SVHN-format .mat file: X (32, 32, 3, N) uint8, y (N, 1) with 10 for '0'."""
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, size=(32, 32, 3, n), dtype=np.uint8)
    y = rng.integers(1, 11, size=(n, 1)).astype(np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    savemat(path, {"X": x, "y": y})
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_svhn_loader_reads_the_mat_format_through_torchvision(tmp_path, monkeypatch):
    from torchvision import datasets

    mat = tmp_path / "SVHN" / "train_32x32.mat"
    md5 = write_svhn(mat, n=10)
    split_list = dict(datasets.SVHN.split_list)
    split_list["train"] = [split_list["train"][0], "train_32x32.mat", md5]
    monkeypatch.setattr(datasets.SVHN, "split_list", split_list)

    data = load_dataset("svhn", tmp_path, download=False)
    assert data.images.shape == (10, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.min() >= 0 and data.labels.max() <= 9  # 10 became 0
    from scipy.io import loadmat

    raw = loadmat(mat)
    # torchvision transposes (H, W, C, N) to (N, C, H, W)
    assert torch.equal(
        data.images[3], torch.from_numpy(raw["X"][..., 3]).permute(2, 0, 1)
    )


def test_a_corrupted_svhn_file_gives_the_clear_error(tmp_path):
    write_svhn(tmp_path / "SVHN" / "test_32x32.mat", n=4)  # md5 will not match
    with pytest.raises(DatasetNotFoundError, match="test_32x32.mat"):
        load_dataset("svhn", tmp_path, split="test", download=False)


@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir() and not os.environ.get("CI"),
    reason="install Debian's dataset-fashion-mnist to run this",
)
def test_fashion_mnist_is_laid_out_from_debians_package(tmp_path):
    data = load_dataset("fashion-mnist", tmp_path, download=False)
    assert data.images.shape == (60_000, 1, 32, 32)
    assert sorted(set(data.labels.tolist())) == list(range(10))


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "cifar10"}, "name must be one of"),
        ({"name": "mnist", "split": "extra"}, "split for mnist"),
        ({"name": "svhn", "image_size": 28}, "image_size must be one of"),
    ],
)
def test_bad_arguments_are_refused(kwargs, words, tmp_path):
    with pytest.raises(ValueError, match=words):
        load_dataset(root=tmp_path, download=False, **kwargs)


@pytest.fixture
def mnist_root():
    """The folder that holds the real MNIST's raw files (as ``mnist`` needs them)."""
    root = default_root()
    if len(list((root / "MNIST" / "raw").glob("*-ubyte"))) < 4:
        if os.environ.get("CI"):
            pytest.fail(f"MNIST's raw files are not under {root}")
        pytest.skip("MNIST not available locally; set GANKIT_DATA")
    return root


def copy_mnist(src, dst, change=lambda name, data: data):
    """MNIST's four raw files from ``src`` into ``dst``, each passed through
    ``change(file name, bytes)``."""
    raw = dst / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for f in sorted((src / "MNIST" / "raw").iterdir()):
        (raw / f.name).write_bytes(change(f.name, f.read_bytes()))


def test_mnist_files_left_gzip_compressed_give_the_clear_error(mnist_root, tmp_path):
    import gzip

    copy_mnist(mnist_root, tmp_path, lambda name, data: gzip.compress(data))
    with pytest.raises(DatasetNotFoundError, match="could not be read") as info:
        load_dataset("mnist", tmp_path, split="test", download=False)
    assert "gzip-compressed" in str(info.value)
    assert str(tmp_path / "MNIST" / "raw" / "t10k-images-idx3-ubyte") in str(info.value)


def test_an_images_and_labels_file_that_do_not_match_give_the_clear_error(
    mnist_root, tmp_path
):
    swap = {"t10k-labels-idx1-ubyte": "train-labels-idx1-ubyte"}
    src = mnist_root / "MNIST" / "raw"
    copy_mnist(
        mnist_root,
        tmp_path,
        lambda name, data: (src / swap[name]).read_bytes() if name in swap else data,
    )
    with pytest.raises(DatasetNotFoundError, match="10000 images but 60000 labels"):
        load_dataset("mnist", tmp_path, split="test", download=False)


def test_errors_that_are_not_the_files_fault_pass_through(mnist_root, monkeypatch):
    from torchvision import datasets

    def out_of_memory(*args, **kwargs):
        raise MemoryError("no room for the images")

    monkeypatch.setattr(datasets.MNIST, "__init__", out_of_memory)
    with pytest.raises(MemoryError, match="no room"):
        load_dataset("mnist", mnist_root, split="test", download=False)


def test_to_uint8_refuses_what_is_not_float_images():
    # uint8 in would come back shifted (black as mid-grey), silently
    with pytest.raises(ValueError, match="expected float images.*torch.uint8"):
        to_uint8(torch.tensor([0, 255], dtype=torch.uint8))
    with pytest.raises(ValueError, match="expected float images.*ndarray"):
        to_uint8(np.zeros((1, 1, 4, 4), np.float32))


def test_numpy_arrays_are_refused_with_the_remedy():
    pixels = np.zeros((2, 1, 32, 32), np.uint8)
    with pytest.raises(ValueError, match="images must be a torch.Tensor.*from_numpy"):
        ImageData(pixels, torch.zeros(2, dtype=torch.long), "x")
    with pytest.raises(ValueError, match="labels must be a torch.Tensor"):
        ImageData(torch.from_numpy(pixels), None, "x")
    with pytest.raises(ValueError, match="expected a uint8 torch.Tensor, got ndarray"):
        to_signed_unit(pixels)


def test_image_data_refuses_float_images():
    with pytest.raises(ValueError, match="uint8"):
        ImageData(torch.zeros(2, 1, 32, 32), torch.zeros(2, dtype=torch.long), "x")
