"""The language-model side of the project: a generic pretraining corpus, a
byte-level BPE tokenizer, the tiny embedded base model and its pretraining,
supervised fine-tuning with the transformers Trainer (loss on response tokens
only), per-example response-loss scoring, dev loss and greedy generation.

Every model and tokenizer is loaded with ``from_pretrained(name_or_path)``, so
the same code serves the embedded tiny model on a CPU and any Hugging Face
causal LM (Qwen2, Llama-3, ...) on GPUs. Submodules import torch and
transformers lazily; importing this package is cheap.
"""
