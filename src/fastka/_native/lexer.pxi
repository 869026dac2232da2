# The configuration lexer's common case, compiled: runs of ordinary lines.
#
# fastka.config.lexer is the whole lexer (and this function's pure-Python twin: its
# per-line fast path). A line is ordinary when, before a comment (# or !), it has no
# quote, $, ~, @ or backslash, and its first word is not one the lexer acts on
# (include, include_check, random_seed). Its words split at the six ASCII blanks and
# around { and }. The lexer's cache (line text -> its words as (text, column, quoted),
# None: never cacheable) is shared, so a line the Python side lexed the long way (a
# quoted one, say) is taken from it here too.

from cpython.ref cimport PyObject, Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

cdef extern from *:
    """
    /* An instance of a tuple subclass (the NamedTuples Pos, Token, Line) from its items,
       without the Python-level __new__: what tuple.__new__(cls, (a, b, c)) gives. The
       references to the items are new ones. */
    static PyObject *fk_tuple_of(PyObject *type, Py_ssize_t n, PyObject *a, PyObject *b, PyObject *c) {
        PyTypeObject *t = (PyTypeObject *)type;
        PyObject *o = t->tp_alloc(t, n);
        if (o == NULL)
            return NULL;
        Py_INCREF(a); PyTuple_SET_ITEM(o, 0, a);
        Py_INCREF(b); PyTuple_SET_ITEM(o, 1, b);
        if (n > 2) { Py_INCREF(c); PyTuple_SET_ITEM(o, 2, c); }
        return o;
    }
    """
    object fk_tuple_of(object t, Py_ssize_t n, PyObject *a, PyObject *b, PyObject *c)


cdef inline bint _blank(Py_UCS4 ch):
    return ch == u' ' or ch == u'\t' or ch == u'\n' or ch == u'\r' or ch == u'\f' or ch == u'\v'


cdef object _plain_words(str raw, frozenset watched):
    """The words of an ordinary line as (text, column, False); None if it is not one."""
    cdef Py_ssize_t n = len(raw), end = n, i = 0, j
    cdef Py_UCS4 ch
    for i in range(n):
        ch = raw[i]
        if ch == u'#' or ch == u'!':
            end = i
            break
        if ch == u'"' or ch == u"'" or ch == u'$' or ch == u'\\' or ch == u'~' or ch == u'@':
            return None
    words = []
    i = 0
    while i < end:
        ch = raw[i]
        if _blank(ch):
            i += 1
            continue
        if ch == u'{' or ch == u'}':
            words.append((raw[i:i + 1], i + 1, False))
            i += 1
            continue
        j = i + 1
        while j < end:
            ch = raw[j]
            if _blank(ch) or ch == u'{' or ch == u'}':
                break
            j += 1
        words.append((raw[i:j], i + 1, False))
        i = j
    if words and (<tuple>words[0])[0] in watched:
        return None
    return words


def lex_plain(list lines, Py_ssize_t start, str name, list out, dict cache, frozenset watched, object unseen,
              object token_t, object pos_t, object line_t):
    """Lex lines[start:] while each is ordinary or cached with its words: a Line of
    Tokens for each line with words, appended to out (line numbers count from 1). The
    index of the first line that needs the full lexer, len(lines) at the end."""
    cdef Py_ssize_t i, n = len(lines), k, m
    cdef object words, pos, tok, lineno, toks, text, col, quoted
    cdef tuple w
    cdef str raw
    for i in range(start, n):
        raw = <str>lines[i]
        words = cache.get(raw, unseen)
        if words is unseen:
            words = _plain_words(raw, watched)
            if words is None:
                return i
            cache[raw] = words
        elif words is None:
            return i
        m = len(<list>words)
        if m == 0:
            continue
        lineno = i + 1
        toks = PyTuple_New(m)
        for k in range(m):
            w = <tuple>(<list>words)[k]
            text, col, quoted = w[0], w[1], w[2]
            pos = fk_tuple_of(pos_t, 3, <PyObject *>name, <PyObject *>lineno, <PyObject *>col)
            tok = fk_tuple_of(token_t, 3, <PyObject *>text, <PyObject *>pos, <PyObject *>quoted)
            Py_INCREF(tok)
            PyTuple_SET_ITEM(toks, k, tok)
        out.append(fk_tuple_of(line_t, 2, <PyObject *>toks, <PyObject *>raw, NULL))
    return n
