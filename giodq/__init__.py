from giodq.imports import defer_unused

defer_unused()   # before anything imports GX (imports.py)
