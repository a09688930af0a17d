"""Train the BPE tokenizer of the tiny base model."""
from ila.plumbing import job

with job(snakemake) as log:
    from ila.lm import jobs, tokenizer

    texts = jobs.read_corpus(snakemake.input.corpus)
    tok = tokenizer.train_tokenizer(texts, snakemake.params.vocab_size, snakemake.output[0])
    log.info("tokenizer: vocabulary %d", len(tok))
