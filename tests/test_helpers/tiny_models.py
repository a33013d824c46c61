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
