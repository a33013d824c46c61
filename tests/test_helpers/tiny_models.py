"""Tiny random-weight models built on the spot (no hub, no download): plumbing tests only, never content."""

from __future__ import annotations

from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}<|{{ message['role'] }}|>\n{{ message['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
SENTENCES = [
    "We will follow the rule together.", "Je pense que ce n'est pas juste.", "Wir sollten zuhören.",
    "私たちは彼を守るべきだと思う。", "我们应该一起讨论这个问题。", "우리는 함께 결정해야 한다.",
    "Мы должны выслушать его.", "يجب أن نستمع إليه.", "हमें उसकी बात सुननी चाहिए।", "আমাদের তার কথা শোনা উচিত।",
    "เราควรฟังเขา", "Chúng ta nên lắng nghe anh ấy.", "Kita harus mendengarkan dia.", "Onu dinlemeliyiz.",
    '{"talk": "ok", "monologue": "fine"}',
]


def build_tiny_llama(folder: Path) -> Path:
    """A 2-layer Llama with a byte-level BPE tokenizer and a chat template, saved to ``folder`` (~0.4 MB)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator(SENTENCES * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>")
    fast.chat_template = CHAT_TEMPLATE
    config = LlamaConfig(vocab_size=fast.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=4096,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id,
                         pad_token_id=fast.pad_token_id)
    import torch

    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def _unigram_xlmr_tokenizer(folder: Path):
    """An XLM-R tokenizer (SentencePiece-style Unigram, NFKC, <s> A </s></s> B </s>) trained on SENTENCES."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import XLMRobertaTokenizerFast

    tokenizer = Tokenizer(models.Unigram())
    tokenizer.normalizer = normalizers.NFKC()
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    tokenizer.decoder = decoders.Metaspace()
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    trainer = trainers.UnigramTrainer(vocab_size=600, special_tokens=specials, unk_token="<unk>")
    tokenizer.train_from_iterator(SENTENCES * 4, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tokenizer.token_to_id("<s>")), ("</s>", tokenizer.token_to_id("</s>"))])
    fast = XLMRobertaTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                   cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>")
    folder.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(folder)
    return fast


def _tiny_xlmr_config(tokenizer, max_positions: int = 520, **extra):
    from transformers import XLMRobertaConfig

    return XLMRobertaConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=max_positions,
                            pad_token_id=tokenizer.pad_token_id,
                            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, **extra)


def build_tiny_xlmr_classifier(folder: Path, labels: list[str], languages: list[str] | None = None, *,
                               max_positions: int = 520) -> Path:
    """A 2-layer XLMRobertaForSequenceClassification with random weights (seeded) and the given labels; its
    config.json lists ``languages`` when given (the coverage a real model card would state).

    ``max_positions`` is ``max_position_embeddings``: XLM-R numbers positions after the padding index (1), so
    the model takes ``max_positions - 2`` tokens. The tokenizer states no ``model_max_length`` (it reports
    the "unknown" sentinel), like many hand-made or converted checkpoints."""
    import torch
    from transformers import XLMRobertaForSequenceClassification

    tokenizer = _unigram_xlmr_tokenizer(folder)
    extra = {"languages": languages} if languages else {}
    config = _tiny_xlmr_config(tokenizer, max_positions, num_labels=len(labels), id2label=dict(enumerate(labels)),
                               label2id={label: i for i, label in enumerate(labels)}, **extra)
    torch.manual_seed(0)
    XLMRobertaForSequenceClassification(config).save_pretrained(folder)
    return folder


def build_tiny_sentence_transformer(folder: Path, languages: list[str] | None = None, *, max_positions: int = 520,
                                    max_seq_length: int | None = 128) -> Path:
    """A SentenceTransformer (tiny XLM-R encoder + mean pooling) saved to ``folder``; reloads offline.

    ``max_seq_length=None`` saves none: sentence-transformers then derives it on load from the tokenizer
    (unknown here) and ``max_positions``."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import XLMRobertaModel

    base = folder / "encoder"
    tokenizer = _unigram_xlmr_tokenizer(base)
    extra = {"languages": languages} if languages else {}
    torch.manual_seed(0)
    XLMRobertaModel(_tiny_xlmr_config(tokenizer, max_positions, **extra)).save_pretrained(base)
    encoder = Transformer(str(base), max_seq_length=max_seq_length)
    model = SentenceTransformer(modules=[encoder, Pooling(encoder.get_embedding_dimension(), "mean")])
    model.save(str(folder))
    return folder
