"""Coverage and depth of instruction sets, and ILA selection.

Reproduction of "Accelerate Scaling of LLM Finetuning via Quantifying the
Coverage and Depth of Instruction Set" (arXiv 2509.06463). The package holds
all logic; the Snakemake workflow only wires it. Importing the package is
cheap: heavy libraries (torch, transformers) are imported by the modules that
need them.
"""

__version__ = "0.1.0"
