"""`transformers serve` with Qwen-VL processors loaded image-only: runs in the judge interpreter.

The controller (`launch.py`) starts the judge server as `<judge python> launch_remote.py serve
MODEL ...`; this file is run by path, so like `remote.py` it imports only the standard library and
the judge's own dependencies (transformers), never editbench.

Why: `transformers serve` builds a checkpoint's processor with `AutoProcessor`, and a Qwen-VL
processor then loads its video processor, which needs torchvision. The judge environment leaves
torchvision out by design (no CPU build of it pairs with the pinned torch everywhere). The judge
scores images only, so, as the gateway does (`remote.QwenVLBackend`), the processor is built
without its video processor when torchvision is missing, and a checkpoint whose processor ships
no chat template uses its tokenizer's. Everything else is the stock `transformers serve` CLI.

Since transformers 5.2x `transformers serve` loads the model in a process of its own, started with
multiprocessing's "spawn": a fresh interpreter that imports this file again as `__mp_main__`
before it runs the model's loader. The same two adjustments are made there, at import.
"""

from __future__ import annotations

import sys


def image_only_processors() -> None:
    """Without torchvision, processors leave out their video processor (images are all we send)."""
    from transformers import ProcessorMixin
    from transformers.utils import is_torchvision_available

    if is_torchvision_available():
        return
    attributes = ProcessorMixin.get_attributes.__func__

    def get_attributes(cls) -> list:
        return [name for name in attributes(cls) if name != "video_processor"]

    ProcessorMixin.get_attributes = classmethod(get_attributes)


def tokenizer_chat_template() -> None:
    """A processor without a chat template takes its tokenizer's (as `remote._chat_template` does)."""
    from transformers import AutoProcessor

    load = AutoProcessor.from_pretrained

    def from_pretrained(cls, *args, **kwargs):
        processor = load(*args, **kwargs)
        tokenizer = getattr(processor, "tokenizer", None)
        if getattr(processor, "chat_template", None) is None and tokenizer is not None:
            processor.chat_template = getattr(tokenizer, "chat_template", None)
        return processor

    AutoProcessor.from_pretrained = classmethod(from_pretrained)


def main(argv: list[str]) -> None:
    image_only_processors()
    tokenizer_chat_template()
    from transformers.cli.transformers import app

    sys.argv = ["transformers", *argv]
    app()


if __name__ == "__main__":
    main(sys.argv[1:])
elif __name__ == "__mp_main__":
    # the server's model process (multiprocessing spawn re-imports the parent's main file)
    image_only_processors()
    tokenizer_chat_template()
