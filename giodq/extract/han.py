"""The Han character class, written once for every regex of the extraction stage.

Unit names are written in any Han block: a township named with an Extension B character
(𠀀, 𪚥) is as much a name as one in the basic block, and a class of ``\\u4e00-\\u9fff``
alone cuts it at the first such character.
"""
from __future__ import annotations

# For use inside a character class: rf"[{HAN}]". The compatibility supplement lies inside the
# B–I span; it is listed so that the class reads as the list of blocks it covers.
HAN = (
    "\u3400-\u4dbf"            # CJK Unified Ideographs Extension A
    "\u4e00-\u9fff"            # CJK Unified Ideographs
    "\uf900-\ufaff"            # CJK Compatibility Ideographs
    "\U00020000-\U0003347f"    # Extensions B–I (planes 2 and 3)
    "\U0002f800-\U0002fa1f"    # CJK Compatibility Ideographs Supplement
)
