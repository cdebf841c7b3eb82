"""nn: the book's ``network2`` and ``mnist_loader`` modules, trained by the nn engine in Rust.

    from nn import mnist_loader, network2

is the only line of a chapter 3 session that changes; see ``nn.network2`` for the keywords
beyond the book (``optimizer``, ``momentum``, ``l1``, ``dropout``, ``early_stopping``,
``lr_schedule``, ``average_weights``, ... the fields of nn-train's run options,
``seed``) and the ``LogLikelihoodCost``; ``nn.chapter`` lists and runs the chapter's
experiments as ``nn reproduce`` does.
"""

from . import chapter, mnist_loader, network2

__all__ = ["chapter", "mnist_loader", "network2"]
