# cython: language_level=3
"""fastka's native core: one extension built from the .pxi fragments below."""

include "checksum.pxi"
include "advert.pxi"
include "ah.pxi"
include "timerwheel.pxi"
include "mmsg.pxi"
include "vloop.pxi"
include "ipvs.pxi"
include "lexer.pxi"
include "tree.pxi"
