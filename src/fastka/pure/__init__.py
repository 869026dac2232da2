"""Pure-Python twins of the native kernels: the fallback when the extension is absent
or FASTKA_NO_EXTENSIONS=1, the oracle tests compare against, and the baseline of every
micro benchmark."""
