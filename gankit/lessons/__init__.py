"""The lessons: what exists to teach one chapter of the book, beside the kit.

Each chapter imports its lesson directly (``from gankit.lessons.toy2d import
train_toy``); importing this package loads none of them. Lessons build on the
kit (``gankit``); the kit never imports a lesson, and no lesson imports another.

=======  ===============  ==========================================================
Chapter  Module           What it holds
=======  ===============  ==========================================================
all      ``profiles``     How much each chapter trains (``GANKIT_PROFILE``).
all      ``notebook``     ``show_source`` and ``glue``, for the pages.
1        ``warmup``       The ticket game: a 1-D forger and the door judging it.
1, 6     ``inpage``       Widgets with a twin that runs in the built page.
2        ``toy2d``        A toy GAN on a ring of Gaussians, and the theory's checks.
3        ``transposed``   Transposed convolution computed by hand, three ways.
3, 4     ``summary``      Layer tables: each layer's output shape and parameters.
4        ``activations``  Dead ReLUs, leaky ReLU's gradient, the naive BCE.
5        ``loop``         The whole training loop in one function, for the reader.
5        ``record``       Recorded long runs, shown where a chapter trains briefly.
6        ``latent``       Walks through the latent space, and the explorer's parts.
6        ``improved``     Feature matching, minibatch discrimination, spectral norm.
7        ``reference``    The plain training loop the Trainer is measured against.
=======  ===============  ==========================================================
"""
