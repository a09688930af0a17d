"""Train the BPE tokenizer of the tiny base model."""
from ila.workflow import start

log = start(snakemake)  # noqa: F821
from ila.lm import jobs, tokenizer  # noqa: E402

texts = jobs.read_corpus(snakemake.input.corpus)  # noqa: F821
tok = tokenizer.train_tokenizer(texts, snakemake.params.vocab_size, snakemake.output[0])  # noqa: F821
log.info("tokenizer: vocabulary %d", len(tok))
