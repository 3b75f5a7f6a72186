from dataclasses import FrozenInstanceError, asdict, replace

import pytest

from gankit import GANConfig


def test_defaults_are_the_articles_hyper_parameters():
    cfg = GANConfig()
    assert (cfg.z_dim, cfg.lr_g, cfg.lr_d, cfg.beta1) == (100, 2e-4, 2e-4, 0.5)
    assert (cfg.label_smoothing, cfg.leaky_slope, cfg.init_std) == (0.1, 0.2, 0.02)
    assert (cfg.image_size, cfg.batch_size, cfg.n_fixed) == (32, 128, 36)
    assert cfg.g_steps_per_d_step == 2  # the notebook's schedule, measured better


def test_config_is_frozen_and_varied_with_replace():
    cfg = GANConfig()
    with pytest.raises(FrozenInstanceError):
        cfg.z_dim = 10  # type: ignore[misc]
    assert replace(cfg, max_steps=5).max_steps == 5
    assert GANConfig(**asdict(cfg)) == cfg


def test_for_dataset_fills_in_channels():
    assert GANConfig.for_dataset("svhn").channels == 3
    assert GANConfig.for_dataset("svhn").dataset == "svhn"
    assert GANConfig.for_dataset("fashion-mnist").dataset == "fashion-mnist"
    assert GANConfig.for_dataset("mnist").channels == 1
    assert GANConfig.for_dataset("svhn", max_steps=7).max_steps == 7


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("image_size", 48, "image_size must be one of (32, 64)"),
        ("channels", 2, "channels must be 1 or 3"),
        ("g_loss", "hinge", "g_loss must be one of"),
        ("label_smoothing", 1.0, "label_smoothing must be in [0, 1)"),
        ("batch_size", 0, "batch_size must be at least 1"),
        ("dataset", "cifar", "dataset must be one of"),
        ("ema_decay", 1.5, "ema_decay must be in (0, 1)"),
        ("init_std", -0.02, "init_std must be a positive number"),
        ("lr_g", float("nan"), "lr_g must be a positive number"),
        ("lr_d", 0.0, "lr_d must be a positive number"),
        ("beta1", 1.0, "beta1 must be in [0, 1)"),
        ("leaky_slope", -0.2, "leaky_slope must be >= 0"),
        ("batch_size", 8.0, "batch_size must be a whole number, got 8.0 (float)"),
        ("z_dim", 2.5, "z_dim must be a whole number"),
        ("max_steps", 1.5, "max_steps must be a whole number"),
        ("n_fixed", True, "n_fixed must be a whole number, got True (bool)"),
        ("spectral_norm", "no", "spectral_norm must be bool, got 'no' (str)"),
        ("lr_g", "2e-4", "lr_g must be float"),
        ("ema_decay", "0.999", "ema_decay must be float | None"),
        ("g_loss", None, "g_loss must be str"),
    ],
)
def test_bad_values_are_refused_with_what_was_expected(field, value, words):
    with pytest.raises(
        ValueError,
        match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\["),
    ):
        GANConfig(**{field: value})


def test_numpy_numbers_are_kept_as_the_plain_numbers_they_stand_for():
    np = pytest.importorskip("numpy")
    cfg = GANConfig(batch_size=np.int64(64), lr_g=np.float32(1e-3), lr_d=1)
    assert type(cfg.batch_size) is int and cfg.batch_size == 64
    assert type(cfg.lr_g) is float and cfg.lr_g == pytest.approx(1e-3)
    assert type(cfg.lr_d) is float and cfg.lr_d == 1.0
    flag = GANConfig(spectral_norm=np.bool_(True)).spectral_norm
    assert type(flag) is bool and flag is True
    with pytest.raises(ValueError, match=r"must be bool, got .*\(numpy\.int64\)"):
        GANConfig(spectral_norm=np.int64(3))
