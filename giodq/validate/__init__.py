# GX is imported in this package: scipy.stats, which GX imports and giodq never uses, waits for its first use
from giodq.imports import defer_unused

defer_unused()
