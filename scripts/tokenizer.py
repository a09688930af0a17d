"""Train the BPE tokenizer of the tiny base model."""
from ila.workflow import start

log = start(snakemake)
from ila.lm import jobs, tokenizer

texts = jobs.read_corpus(snakemake.input.corpus)
tok = tokenizer.train_tokenizer(texts, snakemake.params.vocab_size, snakemake.output[0])
log.info("tokenizer: vocabulary %d", len(tok))
