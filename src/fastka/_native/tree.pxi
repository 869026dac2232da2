# Lines -> the keyword tree, compiled for the common shapes.
#
# fastka.config.tree is the whole tree builder and the pure-Python twin of both
# things here: Node (there a __slots__ class) and the per-line fast path of
# build_tree. A line whose source has no $ or ~ (so every token's text is the
# source's) is one of: a statement without braces; `keyword args {` (the last token
# an unquoted {, the only brace); a lone unquoted `}` closing an open block. Anything
# else stops tree_plain and goes through build_tree's general code.


cdef class Node:
    """One statement: keyword, arguments, and its block's children (None: no block)."""

    cdef public object keyword
    cdef public object args
    cdef public object source
    cdef public object children
    cdef public object close

    def __init__(self, keyword, args, source, children=None, close=None):
        self.keyword = keyword
        self.args = args
        self.source = source
        self.children = children
        self.close = close

    @property
    def name(self):
        return self.keyword[0]

    @property
    def pos(self):
        return self.keyword[1]

    @property
    def tokens(self):
        return [self.keyword, *self.args]

    def __repr__(self):
        return f"Node({self.name!r}, {[a[0] for a in self.args]!r}, children={self.children!r})"


cdef inline Node _node(object keyword, list args, str source, object children):
    cdef Node n = Node.__new__(Node)
    n.keyword = keyword
    n.args = args
    n.source = source
    n.children = children
    n.close = None
    return n


def tree_plain(list lines, Py_ssize_t start, list level, list stack):
    """Add lines[start:] to the tree while each has one of the common shapes: level is
    the children list being filled, stack the open blocks as (owner, its level).
    (index of the first line that needs build_tree's general code or len(lines), the
    level then being filled)."""
    cdef Py_ssize_t i, n = len(lines), j, m, opens, closes
    cdef str src
    cdef tuple line, toks, last
    cdef Py_UCS4 ch
    cdef bint special
    cdef Node node
    for i in range(start, n):
        line = <tuple>lines[i]
        toks = <tuple>line[0]
        src = <str>line[1]
        opens = closes = 0
        special = False
        for ch in src:
            if ch == u'{':
                opens += 1
            elif ch == u'}':
                closes += 1
            elif ch == u'$' or ch == u'~':
                special = True
                break
        if special:
            return i, level
        m = len(toks)
        if opens == 0 and closes == 0:
            level.append(_node(toks[0], list(toks[1:]), src, None))
            continue
        last = <tuple>toks[m - 1]
        if opens == 1 and closes == 0 and m > 1 and last[0] == u"{" and not last[2]:
            node = _node(toks[0], list(toks[1:m - 1]), src, [])
            level.append(node)
            stack.append((node, level))
            level = <list>node.children
            continue
        if closes == 1 and opens == 0 and m == 1 and last[0] == u"}" and not last[2] and stack:
            owner, level = stack.pop()
            (<Node?>owner).close = last[1]
            continue
        return i, level
    return n, level
