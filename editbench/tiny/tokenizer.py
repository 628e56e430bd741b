"""A tiny Qwen2-style byte-level BPE tokenizer, written offline and byte for byte reproducibly.

The vocabulary is the 256 byte symbols of byte-level BPE, a few hundred merges learnt here from a
fixed English text (so a judge prompt takes a realistic number of tokens, two to three characters
each), and Qwen's special and vision tokens. Qwen's pre-tokenizer split keeps digits single
tokens, so "10" is two, exactly as in real Qwen tokenizers. The files are written by hand
(tokenizer.json through the `tokenizers` library, tokenizer_config.json as sorted JSON), so
transformers 4.x and 5.x both load the folder with `AutoTokenizer.from_pretrained`.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from pathlib import Path

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

SPLIT_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
)
MAX_LENGTH = 32768
MERGES = 400

# The text the merges are learnt from: written for this project, in the words judge prompts use.
CORPUS = """
You are judging an image edit. Look at the source image and the edited image, read the edit
instruction and the description of the source image, and rate the result from 0 to 10. Rate how
well the edited image carries out the instruction while changing nothing else: the instruction is
fully carried out and everything it does not mention is kept. Rate the perceptual quality of the
edited image alone: it looks natural, with consistent lighting, shadows, colours and textures, and
it is free of artifacts, distortions, blur and noise. Rate the physical and geometric consistency,
the lighting and environment realism, the social and cultural appropriateness, the causal
correctness of what happens after the change, and whether the edit changes the right referent,
the object the instruction points at and not another one. Answer with a JSON object that has a
score and the reasoning behind it, for example a score of seven with one sentence of reasoning.
Describe the key features of the input image (color, shape, size, texture, objects, background),
then explain how the user's text instruction should alter or modify the image. Generate a new
image that meets the user's requirements while maintaining consistency with the original input
wherever appropriate. Show the glass after it is pushed off the edge of the table. Change the
scene to night with the street lamps on. Make it a snowy winter day. Remove the largest circle.
Paint the cube left of the blue ball green. Turn off the lamp in the room. Decorate the table for
a birthday party. Show the candle after it has burned for three hours.
"""

# Our own chat template in Qwen's format: images as <|vision_start|><|image_pad|><|vision_end|>.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
    "{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'image' or 'image' in part %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif part['type'] == 'text' %}{{ part['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def special_token_ids() -> dict[str, int]:
    """The id of each special token (they follow the byte symbols and the merged symbols)."""
    first = 256 + len(learn_merges())
    return {token: first + index for index, token in enumerate(SPECIAL_TOKENS)}


def vocab_size() -> int:
    """Embedding rows a tiny model needs (a multiple of 8 above the last id)."""
    return ((256 + len(learn_merges()) + len(SPECIAL_TOKENS) + 7) // 8) * 8


def _pre_tokenizer():
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(SPLIT_PATTERN), behavior="isolated", invert=False),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


@functools.cache
def learn_merges(count: int = MERGES) -> tuple[tuple[str, str], ...]:
    """Byte-pair merges learnt from CORPUS: the most frequent pair first, ties broken by the pair itself.

    Plain counting with a total order, so the result never depends on hash or thread order.
    """
    words = Counter(
        tuple(piece) for piece, _ in _pre_tokenizer().pre_tokenize_str(" ".join(CORPUS.split()))
    )
    merges: list[tuple[str, str]] = []
    for _ in range(count):
        pairs: Counter = Counter()
        for symbols, frequency in words.items():
            for pair in zip(symbols, symbols[1:], strict=False):
                pairs[pair] += frequency
        if not pairs:
            break
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        words = Counter({_merge(symbols, best): frequency for symbols, frequency in words.items()})
    return tuple(merges)


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(symbols):
        if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == pair:
            out.append(symbols[i] + symbols[i + 1])
            i += 2
        else:
            out.append(symbols[i])
            i += 1
    return tuple(out)


def build_tokenizer(folder: Path) -> dict[str, int]:
    """Write tokenizer.json and tokenizer_config.json into `folder`; return the special token ids."""
    folder.mkdir(parents=True, exist_ok=True)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    merges = learn_merges()
    vocab = {symbol: index for index, symbol in enumerate(alphabet)}
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    tokenizer = Tokenizer(
        models.BPE(vocab=vocab, merges=list(merges), fuse_unk=False, byte_fallback=False)
    )
    tokenizer.normalizer = normalizers.NFC()
    tokenizer.pre_tokenizer = _pre_tokenizer()
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens(
        [AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS]
    )
    tokenizer.save(str(folder / "tokenizer.json"))
    ids = special_token_ids()
    added = {
        str(ids[t]): {
            "content": t,
            "lstrip": False,
            "normalized": False,
            "rstrip": False,
            "single_word": False,
            "special": True,
        }
        for t in SPECIAL_TOKENS
    }
    config = {
        "tokenizer_class": "Qwen2Tokenizer",
        "added_tokens_decoder": added,
        "additional_special_tokens": [t for t in SPECIAL_TOKENS if t != "<|endoftext|>"],
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": MAX_LENGTH,
        "padding_side": "left",
        "clean_up_tokenization_spaces": False,
        "errors": "replace",
        "split_special_tokens": False,
        "chat_template": CHAT_TEMPLATE,
    }
    (folder / "tokenizer_config.json").write_text(
        json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return ids
