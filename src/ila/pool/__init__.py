"""Instruction pools: the embedded synthetic pool generator and the ingest of
external pools into the canonical Parquet table."""
