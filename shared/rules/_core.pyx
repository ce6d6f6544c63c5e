# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The matcher's per-article hot path in C: tokens, presence keys, presearch, exact evaluation.

shared/rules/program.py compiles watch trees into the flat arrays this module takes (`Core`); the
Python `Engine` (engine.py) normalises the article's fields and calls `Core.match` with a `Scratch`, the
per-article working memory (reused: per-article marks are stamps of the article counter or small
bitmaps cleared per article).

Per article:
1. Tokens: the normalised fields (lower case, non-word characters as spaces, same length as the text)
   are split into words, every CJK character a token of its own. Each word is hashed once (FNV-1a on
   code points) and looked up in the vocabulary of rule words; a vocabulary word brings the wildcard
   stems it starts with (listed at compile time), any other word is screened for stems on its prefixes
   (3 characters and up); two vocabulary words side by side are looked up as a pair (phrases are
   anchored on their rarest pair). Every key found sets its bit in the article's key bitmap; anchor keys
   also get a list of their occurrences.
2. Presearch: the keys of a rule's cheapest required group post the rule; the first posting of an
   article checks the rule's other groups on the key bitmap (each needs a key present), and the rules
   passing are the candidates, plus the rules with no group (NOT-only, lang:, entity:). A SCORE rule
   counts its distinct keys present up to its need instead.
3. Evaluation: each candidate's node program runs over the article. Groups the presearch checked are
   not checked again; plain words and two-word phrases are a bit test; longer phrases, wildcards, case
   rules and fields look at the occurrences (found once per term and article); NEAR/n compares token
   positions (words between, CJK characters count one each); SCORE sums weights.
4. Results: one `MatchResult` per match, in rule order. It reads its watch id and name from the engine's
   per-rule lists, and builds its score, term hits and snippet on first access (one more pass over the
   article, shared by all its matches).
"""

cimport cython
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.dict cimport PyDict_Copy
from cpython.list cimport PyList_GET_ITEM
from cpython.object cimport PyObject
from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcmp, memcpy, memset


cdef extern from "Python.h":
    ctypedef struct PyListObject:
        void** ob_item
    int PyUnicode_KIND(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    uint32_t PyUnicode_READ(int kind, const void* data, Py_ssize_t index) nogil
    object PyUnicode_Substring(object o, Py_ssize_t start, Py_ssize_t end)
    object PyUnicode_FromKindAndData(int kind, const void* buffer, Py_ssize_t size)
    bint Py_UNICODE_ISSPACE(uint32_t ch) nogil
    int PyUnicode_4BYTE_KIND


cdef enum:
    OP_TERM = 0
    OP_AND = 1
    OP_OR = 2
    OP_NOT = 3
    OP_NEAR = 4
    OP_WEIGHTED = 5
    OP_LANG = 6
    OP_ENTITY = 7
    OP_FALSE = 8
    OP_KEY = 9
    OP_ANYKEY = 10
    OP_ALLKEY = 11
    OP_TRUE = 12

OPS = {
    "term": OP_TERM,
    "and": OP_AND,
    "or": OP_OR,
    "not": OP_NOT,
    "near": OP_NEAR,
    "weighted": OP_WEIGHTED,
    "lang": OP_LANG,
    "entity": OP_ENTITY,
    "false": OP_FALSE,
    "key": OP_KEY,
    "anykey": OP_ANYKEY,
    "allkey": OP_ALLKEY,
    "true": OP_TRUE,
}


cdef extern from *:
    int __builtin_ctzll(unsigned long long x) nogil
    void __builtin_prefetch(const void* p) nogil


cdef struct NodeRec:  # 16 bytes: four to a cache line
    int32_t op
    int32_t a
    int32_t b
    int32_t c  # NEAR: distance * 2 + ordered


cdef int PREFETCH = 4  # candidates ahead whose nodes and keys are prefetched

cdef uint64_t FNV_OFF = 1469598103934665603ULL
cdef uint64_t FNV_PRIME = 1099511628211ULL
cdef int MIN_STEM = 3
cdef Py_ssize_t BLOOM_WORDS = 1 << 11  # 16 KB: stays in L1 with the key bitmap
cdef enum:
    SLOT_LATIN = 1 << 30
    SLOT_INDEX = (1 << 24) - 1  # entries; bits 24-29 hold the entry's flags (words: K_OCC, K_PAIR_FIRST, K_STEMS)
    SLOT_FLAGS = (1 << 30) - 1  # entry | flags << 24: what `find` returns
    K_OCC = 1
    K_PAIR_FIRST = 2
    K_STEMS = 4  # a vocabulary word that starts with some wildcard stem
    PAIR_FILTER_WORDS = 1 << 10  # 8 KB (2**16 bits): most lookups of two words that are no pair stop here
    COUNTED = 24  # distinct keys a SCORE rule's presearch state counts (its 24 low bits)

MAX_COUNTED = COUNTED


cdef uint64_t HEAD_MASK[8]  # HEAD_MASK[n]: the first n bytes in memory order (a slot head's first n chars)
for _n in range(8):
    HEAD_MASK[_n] = 0
    for _k in range(_n):
        (<uint8_t*>&HEAD_MASK[_n])[_k] = 0xFF


cdef inline uint64_t pair_hash(uint64_t x) noexcept nogil:
    x ^= x >> 31
    x *= 0x9E3779B97F4A7C15ULL
    return x ^ (x >> 29)


cdef inline uint32_t slot_tag(uint64_t h, Py_ssize_t length) noexcept nogil:
    return (<uint32_t>(h >> 32) & 0xFFFFFF00u) | <uint32_t>(length if length < 255 else 255)


cdef inline bint pool_equal(const uint32_t* p, int kind, const void* data, Py_ssize_t start,
                            Py_ssize_t first, Py_ssize_t length) noexcept nogil:
    """Code points p[first:length] equal the string's characters start + first .. start + length."""
    cdef Py_ssize_t k
    cdef const uint8_t* b
    if kind == 1:
        b = <const uint8_t*>data + start
        for k in range(first, length):
            if p[k] != b[k]:
                return False
        return True
    for k in range(first, length):
        if p[k] != PyUnicode_READ(kind, data, start + k):
            return False
    return True


cdef inline bint is_cjk(uint32_t c) noexcept nogil:
    if c < 0x2E80:
        return False
    return (
        c <= 0x2FFF
        or (0x3040 <= c <= 0x31FF)
        or (0x3400 <= c <= 0x4DBF)
        or (0x4E00 <= c <= 0x9FFF)
        or (0xAC00 <= c <= 0xD7AF)
        or (0xF900 <= c <= 0xFAFF)
        or (0x20000 <= c <= 0x2FA1F)
    )


def check_groups(list rg, list gk, Py_ssize_t nkeys):
    """Checked-group records are well formed: each rule's span lies in gk and holds whole groups of
    existing keys (what `Core.groups_present` walks)."""
    cdef Py_ssize_t r, p, end, n
    for r in range(0, len(rg), 2):
        p, end = rg[r], rg[r + 1]
        if not 0 <= p <= end <= len(gk):
            return False
        while p < end:
            n = gk[p]
            if n < 1 or p + 1 + n > end or any(not 0 <= k < nkeys for k in gk[p + 1:p + 1 + n]):
                return False
            p += 1 + n
    return True


MAX_NODE_DEPTH = 1024  # nested nodes `ev`/`spans` may recurse through (the compiler emits under 200)


def check_nodes(list op, list na, list nb, list kids, list root, Py_ssize_t max_depth):
    """Node records are well formed for the recursive evaluator: every child node comes before its parent
    (so there is no cycle), every child list lies in kids, every root is a node, and no node is more than
    `max_depth` levels deep (the C stack is bounded)."""
    cdef Py_ssize_t n = len(op), nk = len(kids), i, k, a, b, child
    cdef int o
    cdef int32_t d
    cdef int32_t* depth = <int32_t*>malloc((n + 1) * sizeof(int32_t))
    if depth == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            o, a, b, d = op[i], na[i], nb[i], 1
            if o == OP_AND or o == OP_OR or o == OP_WEIGHTED:
                if a < 0 or b < 0 or a + b > nk:
                    return False
                for k in range(a, a + b):
                    child = kids[k]
                    if not 0 <= child < i:
                        return False
                    d = max(d, depth[child] + 1)
            elif o == OP_NOT or o == OP_NEAR:
                if not 0 <= a < i or (o == OP_NEAR and not 0 <= b < i):
                    return False
                d = depth[a] + 1 if o == OP_NOT else max(depth[a], depth[b]) + 1
            if d > max_depth:
                return False
            depth[i] = d
        return all(0 <= r < n for r in root)
    finally:
        free(depth)


def is_cjk_char(str ch):
    """True for a character the tokenizer treats as a CJK token of its own (for tests)."""
    return is_cjk(ord(ch))


cdef struct PosRec:  # a rule's positive: its term, the field it is restricted to (-1: both), its key
    int32_t term
    int32_t field
    int32_t key
    PyObject* display  # its display text (a reference held by Core.pos_text)


cdef struct HitSlot:  # a TermHit made for the article (Scratch.hit_slot)
    PyObject* display
    int32_t f
    int32_t s
    int32_t e
    int32_t made  # its index in the article's list of TermHits, -1: an empty slot


cdef struct SnipSlot:  # a snippet made for the article (Scratch.snippet)
    uint64_t hash
    int32_t off  # its key in Scratch.skeys: field, window start and end, the marked spans
    int32_t len
    int32_t made  # its index in the article's list of snippets, -1: an empty slot


cdef struct Hit4:  # a rule's evidence: field, start, end (character offsets), positive index
    int32_t f
    int32_t s
    int32_t e
    int32_t k


# -- growable int32 vectors ---------------------------------------------------------------------------
cdef struct IVec:
    int32_t* d
    Py_ssize_t n
    Py_ssize_t cap


cdef int ivec_reserve(IVec* v, Py_ssize_t extra) except -1:
    cdef Py_ssize_t cap
    cdef int32_t* d
    if v.n + extra <= v.cap:
        return 0
    cap = v.cap * 2 if v.cap else 64
    while cap < v.n + extra:
        cap *= 2
    d = <int32_t*>realloc(v.d, cap * sizeof(int32_t))
    if d == NULL:
        raise MemoryError()
    v.d = d
    v.cap = cap
    return 0


cdef inline int ivec_push3(IVec* v, int32_t a, int32_t b, int32_t c) except -1:
    if v.n + 3 > v.cap:
        ivec_reserve(v, 3)
    v.d[v.n] = a
    v.d[v.n + 1] = b
    v.d[v.n + 2] = c
    v.n += 3
    return 0


ctypedef fused code_unit:  # a str's storage: 1, 2 or 4 bytes a character
    uint8_t
    uint16_t
    uint32_t


ctypedef fused number:
    int32_t
    double


cdef number* to_c(object values, number zero) except NULL:
    """A malloc'd C copy of a list of numbers, with one `zero` after the end."""
    cdef Py_ssize_t n = len(values), i
    cdef number* out = <number*>malloc((n + 1) * sizeof(number))
    if out == NULL:
        raise MemoryError()
    for i in range(n):
        out[i] = values[i]
    out[n] = zero
    return out


# -- a hash table of strings (code points), looked up without building str objects -------------------
cdef struct Slot:  # 16 bytes: four to a cache line
    uint64_t head  # the first 8 characters packed, when all are Latin-1 (SLOT_LATIN in idx)
    uint32_t tag  # 24 bits of the hash and the length (up to 255)
    int32_t idx  # entry | flags << 24 | SLOT_LATIN, or -1 for an empty slot

@cython.final
cdef class Table:
    """Distinct strings → their index; lookups hash code points straight from a str's buffer."""

    cdef Slot* slots  # open addressing
    cdef int32_t* offs
    cdef int32_t* lens
    cdef uint32_t* pool
    cdef uint64_t mask
    cdef readonly int32_t count
    cdef readonly int32_t longest
    cdef readonly Py_ssize_t nbytes  # memory held in C
    cdef uint64_t* bloom  # 2**17-bit filter of the entries' hashes: most prefixes need no probe
    cdef uint8_t* first3  # 2**16-bit set of the hashes of the entries' first three characters

    def __cinit__(self, list words, bint filter3=False, bytes flags=None):
        cdef Py_ssize_t n = len(words), i, k, total = 0, size = 16, pos = 0
        cdef int32_t entry
        cdef uint64_t h, idx
        cdef str w
        cdef uint32_t ch
        while size < 2 * n + 2:
            size *= 2
        if n > SLOT_INDEX:
            raise ValueError("at most 16,777,215 distinct words")
        if flags is not None and (len(flags) != n or any(f >= 64 for f in flags)):
            raise ValueError("one flags byte (below 64) per word")
        self.mask = size - 1
        self.count = n
        for w in words:
            total += len(w)
        self.slots = <Slot*>malloc(size * sizeof(Slot))
        self.offs = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        self.lens = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        self.pool = <uint32_t*>malloc((total + 1) * sizeof(Py_UCS4))
        self.bloom = <uint64_t*>malloc(BLOOM_WORDS * sizeof(uint64_t)) if filter3 else NULL
        self.first3 = <uint8_t*>malloc(8192) if filter3 else NULL
        if (
            self.slots == NULL or self.offs == NULL or self.lens == NULL
            or self.pool == NULL or (filter3 and (self.bloom == NULL or self.first3 == NULL))
        ):
            raise MemoryError()
        if filter3:
            memset(self.bloom, 0, BLOOM_WORDS * sizeof(uint64_t))
            memset(self.first3, 0, 8192)
        self.nbytes = (
            size * sizeof(Slot) + (n + 1) * 2 * sizeof(int32_t)
            + (total + 1) * sizeof(uint32_t) + (BLOOM_WORDS * sizeof(uint64_t) + 8192 if filter3 else 0)
        )
        for i in range(size):
            self.slots[i].idx = -1
            self.slots[i].tag = 0
            self.slots[i].head = 0
        for i in range(n):
            w = words[i]
            h = FNV_OFF
            self.offs[i] = pos
            for k in range(len(w)):
                ch = ord(w[k])
                self.pool[pos] = ch
                pos += 1
                h = (h ^ ch) * FNV_PRIME
                if filter3 and k == MIN_STEM - 1:
                    self.first3[(h >> 40) & 0x1FFF] |= 1 << ((h >> 34) & 7)
            if filter3:
                self.bloom[(h >> 38) & (BLOOM_WORDS - 1)] |= (<uint64_t>1) << ((h >> 32) & 63)
            self.lens[i] = len(w)
            if len(w) > self.longest:
                self.longest = len(w)
            idx = h & self.mask
            while self.slots[idx].idx >= 0:
                idx = (idx + 1) & self.mask
            entry = <int32_t>i | ((<int32_t>flags[i]) << 24 if flags is not None else 0)
            self.slots[idx].idx = entry | SLOT_LATIN
            self.slots[idx].tag = slot_tag(h, len(w))
            self.slots[idx].head = 0
            for k in range(min(8, len(w))):
                ch = ord(w[k])
                if ch > 255:
                    self.slots[idx].idx = entry
                    self.slots[idx].head = 0
                    break
                (<uint8_t*>&self.slots[idx].head)[k] = <uint8_t>ch  # bytes in memory order

    def __dealloc__(self):
        free(self.slots)
        free(self.offs)
        free(self.lens)
        free(self.pool)
        free(self.bloom)
        free(self.first3)

    cdef inline int32_t find(self, uint64_t h, int kind, const void* data, Py_ssize_t start,
                             Py_ssize_t length, Py_ssize_t avail) noexcept nogil:
        """Index of the string's characters start .. start + length | its flags << 24, or -1; `avail`
        characters are readable from `start` (eight or more: the slot's head is one 8-byte load)."""
        cdef uint64_t idx = h & self.mask
        cdef int32_t e, v
        cdef Py_ssize_t k
        cdef const uint8_t* b
        cdef const Slot* sl
        cdef uint64_t head
        cdef uint32_t tag = slot_tag(h, length)
        while True:
            sl = &self.slots[idx]
            v = sl.idx
            if v < 0:
                return -1
            e = v & SLOT_INDEX
            if sl.tag == tag and (length < 255 or self.lens[e] == length):
                if kind == 1 and v & SLOT_LATIN:
                    # The first 8 characters are in the slot; only longer words read the pool.
                    b = <const uint8_t*>data + start
                    head = 0
                    if avail >= 8:
                        memcpy(&head, b, 8)  # the slot holds the bytes in memory order too
                        if length < 8:
                            head &= HEAD_MASK[length]
                    else:
                        memcpy(&head, b, length)
                    if head == sl.head and (
                        length <= 8 or pool_equal(self.pool + self.offs[e], kind, data, start, 8, length)
                    ):
                        return v & SLOT_FLAGS
                elif pool_equal(self.pool + self.offs[e], kind, data, start, 0, length):
                    return v & SLOT_FLAGS
            idx = (idx + 1) & self.mask

    def get(self, str word):
        """Index of `word`, or -1."""
        cdef uint64_t h = FNV_OFF
        cdef Py_UCS4 uc
        for uc in word:
            h = (h ^ <uint64_t>ord(uc)) * FNV_PRIME
        return self.find(h, PyUnicode_KIND(word), PyUnicode_DATA(word), 0, len(word), len(word))


# -- document text normalised through a table (shared/rules/text.py `normalize`) ----------------------
cdef bytes NORM_TABLE = None  # per BMP code point, its normalised form (uint16); 0xFFFF: the general path
cdef const uint16_t* NORM = NULL
cdef uint16_t NORM_GENERAL = 0xFFFF


def set_normalize_table(bytes table):
    """Install text.py's table: per BMP code point (native uint16) its lower case, or a space for a
    non-word character; 0xFFFF where only the general path knows. Latin-1 must map into Latin-1."""
    global NORM_TABLE, NORM
    cdef const uint16_t* t = <const uint16_t*><const char*>table
    cdef Py_ssize_t c
    if len(table) != 2 * 0x10000:
        raise ValueError("one uint16 per BMP code point")
    for c in range(256):
        if t[c] > 255:
            raise ValueError("Latin-1 must normalise into Latin-1")
    NORM_TABLE = table
    NORM = t


def normalize_table(str text):
    """text.py's `normalize` of a 1- or 2-byte string through the table, or None when it needs the
    general path: no table yet, 4-byte strings, surrogates, Σ (its lower case depends on where it
    stands), and code points the table leaves out."""
    cdef Py_ssize_t n = PyUnicode_GET_LENGTH(text), i
    cdef int kind = PyUnicode_KIND(text)
    cdef const uint8_t* b
    cdef const uint16_t* w
    cdef uint8_t* o1
    cdef uint16_t* o2
    cdef uint16_t v
    cdef uint32_t c
    if NORM == NULL or kind == 4:
        return None
    if kind == 1:
        o1 = <uint8_t*>malloc(n + 1)
        if o1 == NULL:
            raise MemoryError()
        try:
            b = <const uint8_t*>PyUnicode_DATA(text)
            for i in range(n):
                o1[i] = <uint8_t>NORM[b[i]]
            return PyUnicode_FromKindAndData(1, o1, n)
        finally:
            free(o1)
    o2 = <uint16_t*>malloc(2 * n + 2)
    if o2 == NULL:
        raise MemoryError()
    try:
        w = <const uint16_t*>PyUnicode_DATA(text)
        for i in range(n):
            c = w[i]
            v = NORM[c]
            if v == NORM_GENERAL or c == 0x3A3 or 0xD800 <= c <= 0xDFFF:
                return None
            o2[i] = v
        return PyUnicode_FromKindAndData(2, o2, n)
    finally:
        free(o2)


cdef class TermHit
cdef class MatchResult
cdef str FIELD_TITLE = "title"
cdef str FIELD_TEXT = "text"


# -- the compiled program -----------------------------------------------------------------------------
@cython.final
cdef class Core:
    """A compiled rule set as flat arrays (from program.py's `Program`)."""

    cdef Table words
    cdef Table stems
    cdef Table cased
    cdef int32_t nws
    cdef readonly int32_t nwords, nstems, npairs, nkeys, nterms, nrules, nnodes, nlangs, nentities
    # adjacent pairs of vocabulary words (a phrase's anchor): open addressing on (first << 32 | second)
    cdef uint64_t* pair_keys
    cdef int32_t* pair_slots
    cdef uint64_t pair_filter[PAIR_FILTER_WORDS]  # bit (pair hash >> 48) set for every pair
    cdef uint64_t pair_mask
    cdef int32_t* t_akey  # each term's anchor key (word, stem or pair): its occurrences are walked
    cdef uint8_t* k_occ  # K_OCC: occurrences needed (anchors, postings); K_PAIR_FIRST: starts a pair
    # terms: words t_off[t]..t_off[t+1] in tw_*; the word the occurrences are looked up by; plain flag
    cdef int32_t* t_off
    cdef int32_t* t_anchor
    cdef uint8_t* t_simple
    cdef int32_t* tw_key
    cdef uint8_t* tw_prefix
    cdef int32_t* tw_cased
    # nodes
    cdef NodeRec* nodes
    cdef double* nw  # WEIGHTED thresholds, by node
    cdef int32_t* r_node0  # first node and first kid of each rule (a rule's nodes and kids are contiguous)
    cdef int32_t* r_kid0
    cdef int32_t* kids
    cdef double* kid_w
    # rules
    cdef int32_t* root
    cdef int32_t* kr_off  # presearch index: key → rules (CSR)
    cdef int32_t* kr
    cdef int32_t* rg  # per rule: start and end in gk of its groups after the cheapest (checked on kbits)
    cdef int32_t* gk  # groups: each its key count, then its keys
    cdef int32_t* ws_off  # per vocabulary word: the wildcard stems it starts with (CSR into ws_key)
    cdef int32_t* ws_key
    cdef int32_t* always
    cdef int32_t nalways
    cdef int32_t* pos_off  # positives: (term, field) per rule (CSR), for the default score
    cdef PosRec* pos  # each rule's positives side by side (their details read them together)
    cdef int32_t* sc_off  # weighted nodes per rule (CSR), for SCORE rules' score
    cdef int32_t* sc_node
    cdef list entities
    cdef list pos_text  # each positive's display text (the term as the rule writes it), CSR as pos_term
    cdef readonly Py_ssize_t nbytes  # memory held in C (the program; a Scratch has its own)

    def __cinit__(self, program):
        cdef Py_ssize_t i
        cdef int32_t e, g, target
        self.stems = Table(program.stems, True)
        self.cased = Table(program.cased)
        self.nwords = len(program.words)
        self.nstems = len(program.stems)
        self.npairs = len(program.pairs)
        self.nkeys = self.nwords + self.nstems + self.npairs
        self.build_pairs(program.pairs)
        self.word_stems(program.words)
        self.t_akey = to_c(program.t_akey, <int32_t>0)

        self.nterms = len(program.t_off) - 1
        if len(program.t_akey) != self.nterms or len(program.kr_off) != self.nkeys + 1:
            raise ValueError("inconsistent program: term or key counts")
        self.k_occ = <uint8_t*>malloc(self.nkeys + 1)
        if self.k_occ == NULL:
            raise MemoryError()
        memset(self.k_occ, 0, self.nkeys + 1)
        for i in range(self.nterms):
            self.k_occ[self.t_akey[i]] = K_OCC
        for i in range(self.nkeys):
            if program.kr_off[i + 1] > program.kr_off[i]:
                self.k_occ[i] |= K_OCC
        for a, _b in program.pairs:
            self.k_occ[a] |= K_PAIR_FIRST
        # Each word's flags sit in its vocabulary slot: a token found needs no other lookup to know them.
        self.words = Table(program.words, False, bytes([
            self.k_occ[i] | (K_STEMS if self.ws_off[i + 1] > self.ws_off[i] else 0) for i in range(self.nwords)
        ]))
        self.nrules = len(program.root)
        self.nnodes = len(program.op)
        if not check_nodes(program.op, program.na, program.nb, program.kids, program.root, MAX_NODE_DEPTH):
            raise ValueError(f"inconsistent program: nodes (a cycle, or nested over {MAX_NODE_DEPTH} deep)")
        self.nlangs = len(program.langs)
        self.entities = list(program.entities)
        # One object per distinct display: the ones an article's details read stay in cache.
        displays = {}
        self.pos_text = [displays.setdefault(text, text) for rule in program.positives for _t, _f, text in rule]
        if len(self.pos_text) != len(program.pos_term):
            raise ValueError("inconsistent program: positives")
        self.nentities = len(self.entities)
        self.t_off = to_c(program.t_off, <int32_t>0)
        self.t_anchor = to_c(program.t_anchor, <int32_t>0)
        self.tw_key = to_c(program.tw_key, <int32_t>0)
        self.tw_cased = to_c(program.tw_cased, <int32_t>0)
        self.t_simple = <uint8_t*>malloc(self.nterms + 1)
        self.tw_prefix = <uint8_t*>malloc(len(program.tw_prefix) + 1)
        self.nodes = <NodeRec*>malloc((self.nnodes + 1) * sizeof(NodeRec))
        if self.t_simple == NULL or self.tw_prefix == NULL or self.nodes == NULL:
            raise MemoryError()
        for i in range(self.nterms):
            self.t_simple[i] = program.t_simple[i]
        for i in range(len(program.tw_prefix)):
            self.tw_prefix[i] = program.tw_prefix[i]
        for i in range(self.nnodes):
            self.nodes[i].op = program.op[i]
            self.nodes[i].a = program.na[i]
            self.nodes[i].b = program.nb[i]
            self.nodes[i].c = program.nc[i] * 2 + program.nd[i] if program.op[i] == OP_NEAR else program.nc[i]
        self.nw = to_c(program.nw, 0.0)
        self.r_node0 = to_c(program.r_node0, <int32_t>0)
        self.r_kid0 = to_c(program.r_kid0, <int32_t>0)
        self.kids = to_c(program.kids, <int32_t>0)
        self.kid_w = to_c(program.kid_w, 0.0)
        self.root = to_c(program.root, <int32_t>0)
        self.kr_off = to_c(program.kr_off, <int32_t>0)
        self.kr = to_c(program.kr, <int32_t>0)
        self.always = to_c(program.always, <int32_t>0)
        if self.nrules >= (1 << 21):
            raise ValueError("at most 2,097,151 rules in one engine")
        for i in range(len(program.kr)):
            e = self.kr[i]
            g = e & 31
            target = (e >> 5) & 31
            if e < 0 or (e >> 10) >= self.nrules or (
                not 1 <= target <= COUNTED if g == 31 else (g != 0 or target != 1)
            ):
                raise ValueError(f"inconsistent program: posting {i}")
        self.rg = to_c(program.rg, <int32_t>0)
        self.gk = to_c(program.gk, <int32_t>0)
        if len(program.rg) != 2 * self.nrules or not check_groups(program.rg, program.gk, self.nkeys):
            raise ValueError("inconsistent program: checked groups")
        self.nalways = len(program.always)
        self.pos_off = to_c(program.pos_off, <int32_t>0)
        self.pos = <PosRec*>malloc((len(program.pos_term) + 1) * sizeof(PosRec))
        if self.pos == NULL:
            raise MemoryError()
        for i in range(len(program.pos_term)):
            self.pos[i].term = program.pos_term[i]
            self.pos[i].field = program.pos_field[i]
            self.pos[i].key = program.pos_key[i]
            self.pos[i].display = <PyObject*>self.pos_text[i]
        self.sc_off = to_c(program.sc_off, <int32_t>0)
        self.sc_node = to_c(program.sc_node, <int32_t>0)
        if len(program.kr_off) != self.nkeys + 1 or len(program.pos_off) != self.nrules + 1:
            raise ValueError("inconsistent program: index sizes")
        self.nbytes = (
            self.words.nbytes + self.stems.nbytes + self.cased.nbytes
            + self.nnodes * (sizeof(NodeRec) + sizeof(double))
            + sizeof(int32_t) * (
                len(program.t_off) + len(program.t_anchor) + len(program.t_akey) + 3 * len(program.pairs) + len(program.tw_key) + len(program.tw_cased)
                + len(program.kids) + len(program.root) + len(program.r_node0) + len(program.r_kid0)
                + len(program.kr_off) + len(program.kr) + len(program.always) + len(program.pos_off)
                + len(program.sc_off) + len(program.sc_node)
                + len(program.rg) + len(program.gk)
            )
            + sizeof(PosRec) * len(program.pos_term)
            + sizeof(double) * len(program.kid_w) + self.nterms + len(program.tw_prefix) + self.nrules
            + self.nkeys + (self.nwords + 1 + self.nws) * sizeof(int32_t)
        )

    def __dealloc__(self):
        free(self.t_off)
        free(self.t_anchor)
        free(self.t_akey)
        free(self.k_occ)
        free(self.pair_keys)
        free(self.pair_slots)
        free(self.t_simple)
        free(self.tw_key)
        free(self.tw_prefix)
        free(self.tw_cased)
        free(self.nodes)
        free(self.nw)
        free(self.r_node0)
        free(self.r_kid0)
        free(self.kids)
        free(self.kid_w)
        free(self.root)
        free(self.kr_off)
        free(self.ws_off)
        free(self.rg)
        free(self.gk)
        free(self.ws_key)
        free(self.kr)
        free(self.always)
        free(self.pos_off)
        free(self.pos)
        free(self.sc_off)
        free(self.sc_node)

    cdef int word_stems(self, list words) except -1:
        """For each vocabulary word, the stem keys it matches (its prefixes of MIN_STEM characters and up
        that are stems): a vocabulary token marks these without screening its prefixes."""
        cdef list off = [0], keys = []
        cdef str w
        cdef Py_ssize_t n
        cdef int32_t sid
        for w in words:
            for n in range(MIN_STEM, min(len(w), self.stems.longest) + 1):
                sid = self.stems.get(w[:n])
                if sid >= 0:
                    keys.append(self.nwords + sid)
            off.append(len(keys))
        self.ws_off = to_c(off, <int32_t>0)
        self.ws_key = to_c(keys, <int32_t>0)
        self.nws = len(keys)
        return 0

    cdef int build_pairs(self, list pairs) except -1:
        cdef Py_ssize_t n = len(pairs), size = 16, i
        cdef uint64_t key, idx
        while size < 2 * n + 2:
            size *= 2
        self.pair_mask = size - 1
        self.pair_keys = <uint64_t*>malloc((n + 1) * sizeof(uint64_t))
        self.pair_slots = <int32_t*>malloc(size * sizeof(int32_t))
        if self.pair_keys == NULL or self.pair_slots == NULL:
            raise MemoryError()
        for i in range(size):
            self.pair_slots[i] = -1
        memset(self.pair_filter, 0, sizeof(self.pair_filter))
        for i in range(n):
            a, b = pairs[i]
            key = (<uint64_t>a << 32) | <uint32_t>b
            self.pair_keys[i] = key
            idx = pair_hash(key)
            self.pair_filter[idx >> 54] |= (<uint64_t>1) << ((idx >> 48) & 63)
            idx &= self.pair_mask
            while self.pair_slots[idx] >= 0:
                idx = (idx + 1) & self.pair_mask
            self.pair_slots[idx] = <int32_t>i
        return 0

    cdef inline int32_t pair_find(self, int32_t a, int32_t b) noexcept nogil:
        cdef uint64_t key = (<uint64_t>a << 32) | <uint32_t>b
        cdef uint64_t idx = pair_hash(key)
        cdef int32_t e
        if not (self.pair_filter[idx >> 54] >> ((idx >> 48) & 63)) & 1:
            return -1  # most adjacent words are no pair: an 8 KB filter says so from L1
        idx &= self.pair_mask
        while True:
            e = self.pair_slots[idx]
            if e < 0 or self.pair_keys[e] == key:
                return e
            idx = (idx + 1) & self.pair_mask

    # -- per article ----------------------------------------------------------------------------------
    cdef int begin(self, Scratch s, str title, str ntitle, str text, str ntext, bytes lang,
                   object doc) except -1:
        if PyUnicode_GET_LENGTH(ntitle) != PyUnicode_GET_LENGTH(title) or (
            PyUnicode_GET_LENGTH(ntext) != PyUnicode_GET_LENGTH(text)
        ):
            raise ValueError("a normalised field must have the length of the field")
        if len(lang) < self.nlangs:
            raise ValueError("one language flag per lang: code is needed")
        s.next_article()
        s.doc = doc
        s._set_lang(lang)
        s.okind[0] = PyUnicode_KIND(title)
        s.odata[0] = PyUnicode_DATA(title)
        s.okind[1] = PyUnicode_KIND(text)
        s.odata[1] = PyUnicode_DATA(text)
        s.nkind[0] = PyUnicode_KIND(ntitle)
        s.ndata[0] = PyUnicode_DATA(ntitle)
        s.nkind[1] = PyUnicode_KIND(ntext)
        s.ndata[1] = PyUnicode_DATA(ntext)
        self.tokenize(s, 0, PyUnicode_GET_LENGTH(ntitle))
        self.tokenize(s, 1, PyUnicode_GET_LENGTH(ntext))
        return 0

    cdef int tokenize(self, Scratch s, int field, Py_ssize_t n) except -1:
        cdef int kind = s.nkind[field]
        cdef const void* data = s.ndata[field]
        s.prev_flags = 0  # pairs do not span fields
        if kind == 1:  # Latin-1: most English text
            return self.scan(s, field, <const uint8_t*>data, kind, n)
        if kind == 2:
            return self.scan(s, field, <const uint16_t*>data, kind, n)
        return self.scan(s, field, <const uint32_t*>data, kind, n)

    cdef int scan(self, Scratch s, int field, const code_unit* chars, int kind, Py_ssize_t n) except -1:
        """The words of one field (compiled once per string width); every CJK character is a word."""
        cdef Py_ssize_t i = 0, start
        cdef uint32_t c
        cdef uint64_t h
        while i < n:
            c = chars[i]
            if c == 32:
                i += 1
                continue
            start = i
            h = FNV_OFF
            if is_cjk(c):
                h = (h ^ c) * FNV_PRIME
                i += 1
            else:
                while True:
                    h = (h ^ c) * FNV_PRIME
                    i += 1
                    if i >= n:
                        break
                    c = chars[i]
                    if c == 32 or is_cjk(c):
                        break
            self.add_token(s, field, start, i, n, h, kind, chars)
        return 0

    cdef int add_token(self, Scratch s, int field, Py_ssize_t start, Py_ssize_t end, Py_ssize_t n, uint64_t h,
                       int kind, const void* data) except -1:
        """Token `s.ntok` is characters start .. end of a field of n characters, hashed `h`."""
        cdef int32_t t = <int32_t>s.ntok, wid, pid, v, key
        cdef Py_ssize_t k
        if s.ntok == s.tcap:
            s.grow_tokens()
        s.tok_field[t] = field
        s.tok_start[t] = <int32_t>start
        s.tok_end[t] = <int32_t>end
        v = self.words.find(h, kind, data, start, end - start, n - start)
        wid = v & SLOT_INDEX if v >= 0 else -1
        s.tok_key[t] = wid
        s.ntok += 1
        if v >= 0:
            self.mark(s, wid, t, v >> 24)
            if s.prev_flags & K_PAIR_FIRST:  # the token before, in this field, is a word that starts a pair
                pid = self.pair_find(s.tok_key[t - 1], wid)
                if pid >= 0:
                    s.add_occ(self.nwords + self.nstems + pid, t - 1)  # pairs exist only as anchors
            s.prev_flags = v >> 24
            if v & (K_STEMS << 24):
                for k in range(self.ws_off[wid], self.ws_off[wid + 1]):
                    key = self.ws_key[k]  # the word's wildcard stems, found at compile time
                    self.mark(s, key, t, self.k_occ[key])
            return 0
        s.prev_flags = 0
        if end - start >= MIN_STEM and self.nstems:
            # Most words share their first three characters with no stem: one test before any scan.
            h = FNV_OFF
            for k in range(MIN_STEM):
                h = (h ^ PyUnicode_READ(kind, data, start + k)) * FNV_PRIME
            if (self.stems.first3[(h >> 40) & 0x1FFF] >> ((h >> 34) & 7)) & 1:
                self.stem_scan(s, t, kind, data, start, end - start, n - start, h)
        return 0

    cdef int stem_scan(self, Scratch s, int32_t t, int kind, const void* data, Py_ssize_t start,
                       Py_ssize_t length, Py_ssize_t avail, uint64_t h) except -1:
        """Mark the wildcard stems that are prefixes of token `t`, a word outside the vocabulary whose
        first MIN_STEM characters (hashed `h`) begin some stem.

        Longer prefixes are hashed a character at a time; a Bloom filter per prefix spares most probes.
        """
        cdef Table st = self.stems
        cdef Py_ssize_t k, last = length if length < st.longest else st.longest
        cdef int32_t sid
        for k in range(MIN_STEM - 1, last):
            if k >= MIN_STEM:
                h = (h ^ PyUnicode_READ(kind, data, start + k)) * FNV_PRIME
            if (st.bloom[(h >> 38) & (BLOOM_WORDS - 1)] >> ((h >> 32) & 63)) & 1:
                sid = st.find(h, kind, data, start, k + 1, avail)
                if sid >= 0:
                    self.mark(s, self.nwords + sid, t, self.k_occ[self.nwords + sid])
        return 0

    cdef inline int mark(self, Scratch s, int32_t key, int32_t t, int32_t flags) except -1:
        """Key `key` (with its k_occ flags) occurs at token `t`: its occurrence is listed (anchors,
        posting keys) or, for a key only checked on tok_key (a word of phrases or of pairs), its
        presence bit is set."""
        if flags & K_OCC:
            return s.add_occ(key, t)
        s.kbits[key >> 6] |= (<uint64_t>1) << (key & 63)
        return 0

    # -- terms ------------------------------------------------------------------------------------------
    cdef bint word_at(self, Scratch s, int32_t w, int32_t t) noexcept:
        """Does word pattern `w` match token `t`?"""
        cdef int32_t key = self.tw_key[w], sid, cid, f = s.tok_field[t], length
        cdef Py_ssize_t start = s.tok_start[t]
        length = s.tok_end[t] - s.tok_start[t]
        if self.tw_prefix[w]:
            sid = key - self.nwords
            if length < self.stems.lens[sid] or not pool_equal(
                self.stems.pool + self.stems.offs[sid], s.nkind[f], s.ndata[f], start, 0, self.stems.lens[sid]
            ):
                return False
        elif s.tok_key[t] != key:
            return False
        cid = self.tw_cased[w]
        if cid >= 0:
            if self.cased.lens[cid] > length or (not self.tw_prefix[w] and self.cased.lens[cid] != length):
                return False
            # Capitals are checked on the original text, not the lower-cased one.
            return pool_equal(self.cased.pool + self.cased.offs[cid], s.okind[f], s.odata[f], start, 0,
                              self.cased.lens[cid])
        return True

    cdef int hits(self, Scratch s, int32_t t) except -1:
        """Find every occurrence of term `t` (once per article): hit triples (field, first, last token)."""
        cdef int32_t off, n, j, aj, o, tok, first, f, key, cnt = 0
        cdef bint ok
        off = self.t_off[t]
        n = self.t_off[t + 1] - off
        for j in range(n):
            # Every word must be present (the key bitmap is in L1); absent terms are never cached.
            key = self.tw_key[off + j]
            if not (s.kbits[key >> 6] >> (key & 63)) & 1:
                return 0
        key = self.t_akey[t]
        if not (s.kbits[key >> 6] >> (key & 63)) & 1:
            return 0
        if s.tstamp[t] == s.cur:
            return s.thcnt[t]
        s.tstamp[t] = s.cur
        s.thoff[t] = <int32_t>s.hits.n
        s.thcnt[t] = 0
        aj = self.t_anchor[t]
        o = s.kfl[2 * key]
        while o >= 0:
            tok = s.occ.d[2 * o]
            o = s.occ.d[2 * o + 1]
            first = tok - aj
            if first < 0 or first + n > s.ntok:
                continue
            f = s.tok_field[first]
            if s.tok_field[first + n - 1] != f:
                continue
            ok = True
            for j in range(n):
                if not self.word_at(s, off + j, first + j):
                    ok = False
                    break
            if ok:
                ivec_push3(&s.hits, f, first, first + n - 1)
                cnt += 1
        s.thcnt[t] = cnt
        return cnt

    cdef int term_in(self, Scratch s, int32_t t, int32_t field) except -1:
        cdef int32_t i, off, cnt
        if field < 0 and self.t_simple[t]:  # exact: the anchor key's presence is the hit
            return (s.kbits[self.t_akey[t] >> 6] >> (self.t_akey[t] & 63)) & 1
        cnt = self.hits(s, t)
        if field < 0 or cnt == 0:
            return cnt > 0
        off = s.thoff[t]
        for i in range(cnt):
            if s.hits.d[off + 3 * i] == field:
                return 1
        return 0

    # -- nodes ------------------------------------------------------------------------------------------
    cdef int ev(self, Scratch s, int32_t node) except -1:
        cdef NodeRec* nd = &self.nodes[node]
        cdef int op = nd.op, r
        cdef int32_t a = nd.a, b = nd.b, k, spoff
        cdef Py_ssize_t mark
        cdef double total
        cdef const uint64_t* kb = s.kbits
        cdef int32_t key
        if op == OP_KEY:
            return (kb[a >> 6] >> (a & 63)) & 1
        elif op == OP_ANYKEY:
            for k in range(a, a + b):
                key = self.kids[k]
                if (kb[key >> 6] >> (key & 63)) & 1:
                    return 1
            return 0
        elif op == OP_ALLKEY:
            for k in range(a, a + b):
                key = self.kids[k]
                if not (kb[key >> 6] >> (key & 63)) & 1:
                    return 0
            return 1
        elif op == OP_TRUE:
            return 1
        elif op == OP_TERM:
            if not (kb[nd.c >> 6] >> (nd.c & 63)) & 1:  # the term's rarest word is absent
                return 0
            return self.term_in(s, a, b)
        elif op == OP_AND:
            for k in range(a, a + b):
                r = self.ev(s, self.kids[k])
                if r != 1:
                    return r
            return 1
        elif op == OP_OR:
            for k in range(a, a + b):
                r = self.ev(s, self.kids[k])
                if r != 0:
                    return r
            return 0
        elif op == OP_NOT:
            r = self.ev(s, a)
            return r if r < 0 else 1 - r
        elif op == OP_NEAR:
            mark = s.sp.n
            r = self.spans(s, node, &spoff)
            s.sp.n = mark
            return r if r <= 0 else 1
        elif op == OP_WEIGHTED:
            self.weighted(s, node, &total)
            return total >= self.nw[node]
        elif op == OP_LANG:
            return s.lang[a] != 0
        elif op == OP_ENTITY:
            return self.entity(s, a)
        return 0

    cdef int weighted(self, Scratch s, int32_t node, double* total) except -1:
        cdef int32_t a = self.nodes[node].a, b = self.nodes[node].b, k
        cdef int r
        total[0] = 0.0
        for k in range(a, a + b):
            r = self.ev(s, self.kids[k])
            if r == 1:
                total[0] += self.kid_w[k]
        return 0

    cdef int entity(self, Scratch s, int32_t idx) except -1:
        if s.estamp[idx] != s.cur:
            s.eval[idx] = 1 if self.entities[idx](s.doc) else 0
            s.estamp[idx] = s.cur
        return s.eval[idx]

    cdef int spans(self, Scratch s, int32_t node, int32_t* out) except -1:
        """Hits of a span node appended to s.sp: count returned, offset in `out`."""
        cdef int op = self.nodes[node].op
        cdef int32_t a = self.nodes[node].a, b = self.nodes[node].b, i, j, k, n, cnt = 0, hoff
        cdef int32_t lo, ro, ln, rn, f1, s1, e1, f2, s2, e2, dist, ordered
        cdef int32_t stack_off[32]
        cdef int32_t stack_cnt[32]
        cdef int32_t* offs = stack_off
        cdef int32_t* cnts = stack_cnt
        if op == OP_TERM:
            k = self.nodes[node].c
            n = self.hits(s, a) if (s.kbits[k >> 6] >> (k & 63)) & 1 else 0
            out[0] = <int32_t>s.sp.n
            if n == 0:
                return 0
            ivec_reserve(&s.sp, 3 * n)
            hoff = s.thoff[a]
            for i in range(n):
                if b < 0 or s.hits.d[hoff + 3 * i] == b:
                    s.sp.d[s.sp.n] = s.hits.d[hoff + 3 * i]
                    s.sp.d[s.sp.n + 1] = s.hits.d[hoff + 3 * i + 1]
                    s.sp.d[s.sp.n + 2] = s.hits.d[hoff + 3 * i + 2]
                    s.sp.n += 3
                    cnt += 1
            return cnt
        if op == OP_OR:
            if b > 32:
                offs = <int32_t*>malloc(b * sizeof(int32_t))
                cnts = <int32_t*>malloc(b * sizeof(int32_t))
                if offs == NULL or cnts == NULL:
                    free(offs)
                    free(cnts)
                    raise MemoryError()
            try:
                for k in range(b):
                    cnts[k] = self.spans(s, self.kids[a + k], &offs[k])
                    cnt += cnts[k]
                ivec_reserve(&s.sp, 3 * cnt)
                out[0] = <int32_t>s.sp.n
                for k in range(b):
                    for i in range(3 * cnts[k]):
                        s.sp.d[s.sp.n] = s.sp.d[offs[k] + i]
                        s.sp.n += 1
            finally:
                if offs != stack_off:
                    free(offs)
                    free(cnts)
            return cnt
        if op == OP_NEAR:
            ln = self.spans(s, a, &lo)
            if ln == 0:
                out[0] = <int32_t>s.sp.n
                return 0
            rn = self.spans(s, b, &ro)
            out[0] = <int32_t>s.sp.n
            dist = self.nodes[node].c >> 1
            ordered = self.nodes[node].c & 1
            for i in range(ln):
                f1 = s.sp.d[lo + 3 * i]
                s1 = s.sp.d[lo + 3 * i + 1]
                e1 = s.sp.d[lo + 3 * i + 2]
                for j in range(rn):
                    f2 = s.sp.d[ro + 3 * j]
                    if f1 != f2:
                        continue
                    s2 = s.sp.d[ro + 3 * j + 1]
                    e2 = s.sp.d[ro + 3 * j + 2]
                    if (s2 > e1 and s2 - e1 - 1 <= dist) or (
                        not ordered and s1 > e2 and s1 - e2 - 1 <= dist
                    ):
                        ivec_push3(&s.sp, f1, s1 if s1 < s2 else s2, e1 if e1 > e2 else e2)
                        cnt += 1
            return cnt
        out[0] = <int32_t>s.sp.n
        return 0

    cdef double score(self, Scratch s, int32_t r) except? -1.0:
        cdef int32_t k, key, n = 0
        cdef double total = 0.0, part
        if self.sc_off[r + 1] > self.sc_off[r]:
            for k in range(self.sc_off[r], self.sc_off[r + 1]):
                self.weighted(s, self.sc_node[k], &part)
                total += part
            return total
        for k in range(self.pos_off[r], self.pos_off[r + 1]):
            key = self.pos[k].key
            if not (s.kbits[key >> 6] >> (key & 63)) & 1:
                continue
            if self.term_in(s, self.pos[k].term, self.pos[k].field) == 1:
                n += 1
        return n if n else 1.0

    cdef inline bint groups_present(self, const uint64_t* kbits, int32_t r) noexcept nogil:
        """Each of rule r's further groups has a key present (rarest group first, commonest key first)."""
        cdef const int32_t* g = self.gk + self.rg[2 * r]
        cdef const int32_t* end = self.gk + self.rg[2 * r + 1]
        cdef const int32_t* k
        cdef const int32_t* stop
        cdef int32_t key
        while g < end:
            k = g + 1
            stop = k + g[0]
            while k < stop:
                key = k[0]
                if (kbits[key >> 6] >> (key & 63)) & 1:
                    break
                k += 1
            if k == stop:
                return False
            g = stop
        return True

    cdef int candidates(self, Scratch s) except -1:
        """Collect in s.cand the rules whose required groups all have a key present.

        Only the keys of a rule's cheapest group post it (rule << 10 | 1 << 5): the first such posting
        of an article checks the rule's other groups on the key bitmap, and the rule is a candidate if
        each has a key present. A SCORE rule (rule << 10 | need << 5 | 31) counts the distinct keys of
        its group present instead, up to its need. A rule's state is 4 bytes (L1 for ten thousand
        rules): the article's 8-bit stamp over its 24-bit count (or 1 once checked), so a state of an
        earlier article reads as zero and nothing is cleared between articles (all states are zeroed
        once every 255 articles). Rules with no group are always candidates.
        """
        cdef Py_ssize_t i, j, b, end, total = 0
        cdef int32_t key, r, e
        cdef uint32_t m, full
        cdef uint32_t* state = s.rstate
        cdef uint32_t stamp = s.rstamp << 24
        cdef const int32_t* kr = self.kr
        cdef const int32_t* kr_off = self.kr_off
        cdef const int32_t* present = s.present
        cdef const uint64_t* kbits = s.kbits
        cdef const int32_t* rg = self.rg
        cdef int32_t* cand = s.cand.d  # room for every rule (reserved by Scratch)
        cdef int32_t* post
        cdef Py_ssize_t n = 0
        # The postings of the keys present, gathered first (independent loads), then walked with the
        # states and group records of the postings ahead prefetched: the walk is bound by memory latency.
        for i in range(s.npresent):
            key = present[i]
            total += kr_off[key + 1] - kr_off[key]
        ivec_reserve(&s.post, total)
        post = s.post.d
        b = 0
        for i in range(s.npresent):
            key = present[i]
            end = kr_off[key + 1]
            for j in range(kr_off[key], end):
                post[b] = kr[j]
                b += 1
        for j in range(total):
            if j + 8 < total:
                r = post[j + 8] >> 10
                __builtin_prefetch(&state[r])
                __builtin_prefetch(&rg[2 * r])
            if j + 4 < total:
                __builtin_prefetch(self.gk + rg[2 * (post[j + 4] >> 10)])
            e = post[j]
            r = e >> 10
            m = state[r]
            if (m ^ stamp) >> 24:
                m = stamp  # first posting of the rule in this article
            if e & 31:  # SCORE: distinct keys present, up to its need
                full = stamp | ((e >> 5) & 31)
                if m == full:
                    continue  # a candidate already
                m += 1
                state[r] = m
                if m == full:
                    cand[n] = r
                    n += 1
            elif m == stamp:
                state[r] = stamp | 1  # checked once an article
                if self.groups_present(kbits, r):
                    cand[n] = r
                    n += 1
        for j in range(self.nalways):
            cand[n] = self.always[j]
            n += 1
        s.cand.n = n
        return 0

    # -- Python API ---------------------------------------------------------------------------------------
    def match(self, Scratch s, str title, str ntitle, str text, str ntext, bytes lang, object doc,
              Article article, list ids, list names):
        """MatchResults of the rules matching the article, in rule order (`ids`, `names`: per rule).

        Their details come from `article` (`Article.fill`); `article.rules` is set to the matched indices
        (native int32 bytes).
        """
        cdef Py_ssize_t i, n
        cdef int32_t r
        cdef list results = []
        cdef void** items
        if s.core is not self:
            raise ValueError("scratch of another core")
        if len(ids) != self.nrules or len(names) != self.nrules:
            raise ValueError("one id and one name per rule")
        self.begin(s, title, ntitle, text, ntext, lang, doc)
        self.candidates(s)
        n = 0
        for i in range(s.cand.n):
            if i + PREFETCH < s.cand.n:
                # Candidates are spread over the program: fetch the next ones' nodes and keys meanwhile.
                r = s.cand.d[i + PREFETCH]
                __builtin_prefetch(&self.nodes[self.root[r]])
                __builtin_prefetch(&self.nodes[self.r_node0[r]])
                __builtin_prefetch(&self.kids[self.r_kid0[r]])
            r = s.cand.d[i]
            s.sp.n = 0
            if self.ev(s, self.root[r]) == 1:
                s.cand.d[n] = r  # matches overwrite the candidates they were read from
                n += 1
        s.cand.n = n
        s.sort_rules()
        items = (<PyListObject*>ids).ob_item
        for i in range(s.cand.n):
            # Each result holds its watch id (the pipeline reads them all): the ids of rules spread over
            # the list are fetched ahead, their slots 8 results ahead and the id objects 4 ahead.
            if i + 8 < s.cand.n:
                __builtin_prefetch(&items[s.cand.d[i + 8]])
            if i + 4 < s.cand.n:
                __builtin_prefetch(items[s.cand.d[i + 4]])
            results.append(new_result(ids, names, article, s.cand.d[i], <int32_t>i))
        s.doc = None
        if s.cand.n:
            # The matched rule indices as int32 bytes: one object, read only if details are asked for.
            article.rules = (<char*>s.cand.d)[:s.cand.n * sizeof(int32_t)]
        return results

    def candidate_rules(self, Scratch s, str title, str ntitle, str text, str ntext):
        """The presearch alone: indices of the rules worth evaluating for the article (sorted)."""
        cdef Py_ssize_t i
        if s.core is not self:
            raise ValueError("scratch of another core")
        self.begin(s, title, ntitle, text, ntext, b"\x00" * self.nlangs, None)
        self.candidates(s)
        s.sort_rules()
        return [s.cand.d[i] for i in range(s.cand.n)]

    def rule_hits(self, Scratch s, str title, str ntitle, str text, str ntext, list rules, bytes lang=None,
                  object doc=None):
        """For each rule: (its evidence as (positive index, field, start, end) character offsets, its score).

        Positives are the rule's terms outside NOT (program.positives[rule], in order); a term
        restricted to a field only reports hits in that field. The score is the sum of the matched
        weights of a SCORE rule, else the number of positives present (at least 1).
        """
        cdef list out = [], got
        cdef int32_t r, k, t, fld, key, n, i, off, f, first, last
        if s.core is not self:
            raise ValueError("scratch of another core")
        self.begin(s, title, ntitle, text, ntext, b"\x00" * self.nlangs if lang is None else lang, doc)
        for r in rules:
            if r < 0 or r >= self.nrules:
                raise IndexError("no such rule")
            got = []
            for k in range(self.pos_off[r], self.pos_off[r + 1]):
                key = self.pos[k].key
                if not (s.kbits[key >> 6] >> (key & 63)) & 1:
                    continue
                t = self.pos[k].term
                fld = self.pos[k].field
                n = self.hits(s, t)
                off = s.thoff[t]
                for i in range(n):
                    f = s.hits.d[off + 3 * i]
                    if fld >= 0 and f != fld:
                        continue
                    first = s.hits.d[off + 3 * i + 1]
                    last = s.hits.d[off + 3 * i + 2]
                    got.append((k - self.pos_off[r], f, s.tok_start[first], s.tok_end[last]))
            out.append((got, self.score(s, r)))
        s.doc = None
        return out

    cdef int grow_det(self, Scratch s, Py_ssize_t need) except -1:
        cdef Py_ssize_t cap = s.detcap * 2 if s.detcap else 256
        cdef Hit4* d
        while cap < need:
            cap *= 2
        d = <Hit4*>realloc(s.det, cap * sizeof(Hit4))
        if d == NULL:
            raise MemoryError()
        s.det = d
        s.detcap = cap
        return 0

    def details(self, Scratch s, str title, str ntitle, str text, str ntext, bytes lang, object doc,
                str original_title, str original_text, object title_map, object text_map, bytes rules,
                unsigned long long serial=0):
        """The term hits and snippet of each of the article's matched `rules` (int32 bytes), in one pass:
        [terms of the first, its snippet, terms of the second, ..., their scores as float64 bytes] (one
        list: no tuple or float object per match).

        With `serial` the scratch's serial after it matched this very article (no other article since),
        its tokens and term hits are reused as they are; otherwise the article is read again.
        The hits of each positive term (program.positives, outside NOT; a term restricted to a field only
        in that field) become `TermHit`s in text order, one per span (the first positive naming it gives
        its display; one TermHit object per distinct hit of the article, shared by its rules); offsets are mapped back through `title_map`/`text_map` (folding.Folded) when the
        matcher read a folded text of another length. The snippet is the window of the field holding
        hits (the text if any) around its first hit, every hit marked (`snippet_of`). The score is the
        sum of the matched weights of a SCORE rule, else the number of positives present (at least 1).
        """
        cdef list out = []
        cdef list terms
        cdef list made = []  # the article's TermHits: one per (display, field, start, end), shared by rules
        cdef list snips = []  # its snippets: one per (field, window, marks), shared by rules
        cdef HitSlot* slot
        cdef uint64_t hh, hmask
        cdef Py_ssize_t nr = len(rules) // sizeof(int32_t), ri, nh, i, u
        cdef const int32_t* rp = <const int32_t*><const char*>rules
        cdef int32_t r, k, t, fld, key, n, j, off, f, first, last, a, b, kbase
        cdef Hit4* h
        cdef int32_t* spans
        cdef TermHit hit
        cdef str orig
        cdef PyObject* display
        cdef object fmap
        cdef tuple originals = (original_title, original_text)
        cdef tuple maps = (title_map, text_map)
        cdef bint mapped = title_map is not None or text_map is not None
        cdef double* scores
        if s.core is not self:
            raise ValueError("scratch of another core")
        if PyUnicode_GET_LENGTH(original_title) != PyUnicode_GET_LENGTH(title) and title_map is None or (
            PyUnicode_GET_LENGTH(original_text) != PyUnicode_GET_LENGTH(text) and text_map is None
        ):
            raise ValueError("an original field of another length needs its offsets map")
        s.reset_hit_table(2 * nr + 64)
        s.reset_snippets(nr)
        for ri in range(nr):
            if rp[ri] < 0 or rp[ri] >= self.nrules:
                raise IndexError("no such rule")
        if serial and serial == s.serial:
            s.doc = doc
            s._set_lang(lang)
        else:
            self.begin(s, title, ntitle, text, ntext, lang, doc)
        scores = <double*>malloc((nr + 1) * sizeof(double))
        if scores == NULL:
            raise MemoryError()
        try:
            for ri in range(nr):
                # Matched rules are spread over the program: a pipeline of prefetches brings in the
                # offsets of the rule 12 ahead, the positives of the rule 6 ahead (up to 4 cache lines)
                # and the display strings of the rule 2 ahead.
                if ri + 12 < nr:
                    __builtin_prefetch(&self.pos_off[rp[ri + 12]])
                if ri + 6 < nr:
                    k = self.pos_off[rp[ri + 6]]
                    j = self.pos_off[rp[ri + 6] + 1]
                    for a in range(0, (j - k) * <int32_t>sizeof(PosRec), 64):
                        if a >= 256:
                            break
                        __builtin_prefetch(<const char*>&self.pos[k] + a)
                if ri + 2 < nr:
                    for k in range(self.pos_off[rp[ri + 2]], self.pos_off[rp[ri + 2] + 1]):
                        __builtin_prefetch(self.pos[k].display)
                r = rp[ri]
                nh = 0
                kbase = self.pos_off[r]
                for k in range(kbase, self.pos_off[r + 1]):
                    key = self.pos[k].key
                    if not (s.kbits[key >> 6] >> (key & 63)) & 1:
                        continue
                    t = self.pos[k].term
                    fld = self.pos[k].field
                    n = self.hits(s, t)
                    if nh + n > s.detcap:
                        self.grow_det(s, nh + n)
                    off = s.thoff[t]
                    for j in range(n):
                        f = s.hits.d[off + 3 * j]
                        if fld >= 0 and f != fld:
                            continue
                        first = s.hits.d[off + 3 * j + 1]
                        last = s.hits.d[off + 3 * j + 2]
                        h = &s.det[nh]
                        h.f, h.s, h.e, h.k = f, s.tok_start[first], s.tok_end[last], k
                        if mapped and maps[f] is not None:
                            a, b = maps[f].span(h.s, h.e)  # the matcher read a folded text of another length
                            h.s, h.e = a, b
                        nh += 1
                sort_hit4(s.det, nh)
                terms = []
                u = 0  # unique spans, compacted to the front of s.det
                for i in range(nh):
                    h = &s.det[i]
                    if u and s.det[u - 1].f == h.f and s.det[u - 1].s == h.s and s.det[u - 1].e == h.e:
                        continue  # the same span named by a later positive
                    s.det[u] = h[0]
                    u += 1
                    display = self.pos[h.k].display
                    slot = s.hit_slot(display, h.f, h.s, h.e)
                    if slot.made >= 0:
                        terms.append(<object>PyList_GET_ITEM(made, slot.made))
                        continue
                    orig = <str>originals[h.f]
                    hit = TermHit.__new__(TermHit)
                    hit.term = <str><object>display
                    hit.field = FIELD_TEXT if h.f else FIELD_TITLE
                    hit.start = h.s
                    hit.end = h.e
                    hit.text = PyUnicode_Substring(orig, h.s, h.e)
                    slot.made = <int32_t>len(made)
                    made.append(hit)
                    terms.append(hit)
                # The snippet's field: the text if it holds a hit, else the title; its spans in order.
                f = s.det[u - 1].f if u else 0
                i = 0
                while i < u and s.det[i].f != f:
                    i += 1
                spans = <int32_t*>&s.det[i]  # (s, e) pairs written over the records they come from
                for j in range(u - i):
                    a, b = s.det[i + j].s, s.det[i + j].e
                    spans[2 * j], spans[2 * j + 1] = a, b
                out.append(terms)
                out.append(s.snippet(<str>originals[f], f, spans, u - i, snips))
                scores[ri] = self.score(s, r)
            out.append(PyBytes_FromStringAndSize(<char*>scores, nr * sizeof(double)))
        finally:
            s.doc = None
            free(scores)
        return out


cdef int cmp_hit4(const void* a, const void* b) noexcept nogil:
    cdef const Hit4* x = <const Hit4*>a
    cdef const Hit4* y = <const Hit4*>b
    if x.f != y.f:
        return -1 if x.f < y.f else 1
    if x.s != y.s:
        return -1 if x.s < y.s else 1
    if x.e != y.e:
        return -1 if x.e < y.e else 1
    return -1 if x.k < y.k else (1 if x.k > y.k else 0)


cdef void sort_hit4(Hit4* a, Py_ssize_t n) noexcept nogil:
    """By (field, start, end, positive): insertion sort when few (a term's hits come in order)."""
    cdef Py_ssize_t i, j
    cdef Hit4 x
    if n > 24:
        qsort(a, n, sizeof(Hit4), cmp_hit4)
        return
    for i in range(1, n):
        x = a[i]
        j = i - 1
        while j >= 0 and cmp_hit4(&a[j], &x) > 0:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


SNIPPET_BEFORE = 80  # characters of context before the first hit (shared/rules/snippet.py: highlight)
SNIPPET_WIDTH = 240
cdef uint32_t ELLIPSIS = 0x2026
cdef uint32_t MARK = 42  # "*", twice on each side of a hit


cdef inline void put(uint32_t* buf, Py_ssize_t* n, bint* gap, uint32_t ch) noexcept nogil:
    """Append ch, whitespace runs as one space, none at the ends (as " ".join(s.split()))."""
    if Py_UNICODE_ISSPACE(ch):
        gap[0] = True
        return
    if gap[0] and n[0] > 0:
        buf[n[0]] = 32
        n[0] += 1
    gap[0] = False
    buf[n[0]] = ch
    n[0] += 1


cdef uint8_t SPACE_L1[256]  # Py_UNICODE_ISSPACE of the first 256 code points
for _n in range(256):
    SPACE_L1[_n] = Py_UNICODE_ISSPACE(_n)


cdef void put_run(const code_unit* chars, Py_ssize_t a, Py_ssize_t b, uint32_t* buf, Py_ssize_t* n,
                  bint* gap) noexcept nogil:
    """put() of the characters a .. b (compiled once per string width), without branches for Latin-1:
    a pending space and the character are both written, each kept or not (buf has 8 more slots).

    1- and 2-byte strings copy their runs of printable ASCII (no whitespace in them, so they are written
    as they are) 8 bytes at a time: a window is mostly words, one character per step was the cost."""
    cdef Py_ssize_t k = a, o = n[0], run, step = 8 // sizeof(code_unit)
    cdef uint32_t c, sp, ns, g = gap[0]
    cdef uint64_t x, low, high, m
    if code_unit is uint8_t:
        low, high = 0x2121212121212121ULL, 0x8080808080808080ULL
    else:
        low, high = 0x0021002100210021ULL, 0xFF80FF80FF80FF80ULL
    while k < b:
        if code_unit is not uint32_t:
            if k + step <= b:
                memcpy(&x, chars + k, 8)
                # Lanes outside 0x21 .. 0x7f get high bits: one under 0x21 borrows into them, one over 0x7f
                # has them. A borrow only flags lanes above, so the lowest flagged lane is a true one.
                m = ((x - low) | x) & high
                run = step if m == 0 else __builtin_ctzll(m) // (8 * sizeof(code_unit))
                if run:
                    if g and o != 0:
                        buf[o] = 32
                        o += 1
                    g = 0
                    # all of them (the slack), unrolled
                    buf[o] = chars[k]
                    buf[o + 1] = chars[k + 1]
                    buf[o + 2] = chars[k + 2]
                    buf[o + 3] = chars[k + 3]
                    if code_unit is uint8_t:
                        buf[o + 4] = chars[k + 4]
                        buf[o + 5] = chars[k + 5]
                        buf[o + 6] = chars[k + 6]
                        buf[o + 7] = chars[k + 7]
                    o += run
                    k += run
                    continue
        c = chars[k]
        k += 1
        if code_unit is uint8_t:
            sp = SPACE_L1[c]
        else:
            sp = SPACE_L1[c] if c < 256 else Py_UNICODE_ISSPACE(c)
        ns = sp ^ 1
        buf[o] = 32
        o += g & ns & (o != 0)
        buf[o] = c
        o += ns
        g = sp
    n[0] = o
    gap[0] = g != 0


cdef inline void put_chars(int kind, const void* data, Py_ssize_t a, Py_ssize_t b, uint32_t* buf,
                           Py_ssize_t* n, bint* gap) noexcept nogil:
    if kind == 1:
        put_run(<const uint8_t*>data, a, b, buf, n, gap)
    elif kind == 2:
        put_run(<const uint16_t*>data, a, b, buf, n, gap)
    else:
        put_run(<const uint32_t*>data, a, b, buf, n, gap)


cdef Py_ssize_t snippet_window(str text, int32_t* spans, Py_ssize_t n, Py_ssize_t before, Py_ssize_t width,
                               Py_ssize_t* window) noexcept:
    """The window of a snippet of `text` (not empty): `spans` (n (start, end) pairs, sorted) are merged
    in place, their count returned; window[0], window[1]: its start and end (as snippet.highlight)."""
    cdef Py_ssize_t length = PyUnicode_GET_LENGTH(text), m = 0, i, k, start, end, first, first_end, lo, a, b
    cdef int kind = PyUnicode_KIND(text)
    cdef const void* data = PyUnicode_DATA(text)
    for i in range(n):
        a, b = spans[2 * i], spans[2 * i + 1]
        if m and a <= spans[2 * m - 1]:
            if b > spans[2 * m - 1]:
                spans[2 * m - 1] = <int32_t>b
        else:
            spans[2 * m], spans[2 * m + 1] = <int32_t>a, <int32_t>b
            m += 1
    first = spans[0] if m else 0
    first_end = spans[1] if m else 0
    start = first - before if first > before else 0
    if start > 0:
        for k in range(start, first):  # start at a word boundary rather than mid-word
            if PyUnicode_READ(kind, data, k) == 32:
                start = k + 1
                break
    end = start + width if start + width > first_end else first_end
    if end > length:
        end = length
    if end < length:
        lo = first_end if m else start
        k = end - 1
        while k >= lo and PyUnicode_READ(kind, data, k) != 32:
            k -= 1
        if k >= lo and k > start:
            end = k
    window[0], window[1] = start, end
    return m


cdef Py_ssize_t clip_spans(int32_t* spans, Py_ssize_t m, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    """Keep the merged spans that meet the window, clipped to it (in place); returns their count."""
    cdef Py_ssize_t i, n = 0
    cdef int32_t a, b
    for i in range(m):
        a, b = spans[2 * i], spans[2 * i + 1]
        if b <= start or a >= end:
            continue
        spans[2 * n] = <int32_t>start if a < start else a
        spans[2 * n + 1] = <int32_t>end if b > end else b
        n += 1
    return n


cdef str snippet_render(str text, const int32_t* spans, Py_ssize_t m, Py_ssize_t start, Py_ssize_t end,
                        uint32_t* buf):
    """The window start .. end of `text` with the (clipped, merged) spans marked, whitespace runs as one
    space and "…" where the text goes on; `buf` holds end - start + 4 * m + 12 characters."""
    cdef Py_ssize_t i, pos = start, out = 0, length = PyUnicode_GET_LENGTH(text)
    cdef int kind = PyUnicode_KIND(text)
    cdef const void* data = PyUnicode_DATA(text)
    cdef bint gap = False
    if start > 0:
        put(buf, &out, &gap, ELLIPSIS)
    for i in range(m):
        put_chars(kind, data, pos, spans[2 * i], buf, &out, &gap)
        put(buf, &out, &gap, MARK)
        put(buf, &out, &gap, MARK)
        put_chars(kind, data, spans[2 * i], spans[2 * i + 1], buf, &out, &gap)
        put(buf, &out, &gap, MARK)
        put(buf, &out, &gap, MARK)
        pos = spans[2 * i + 1]
    put_chars(kind, data, pos, end, buf, &out, &gap)
    if end < length:
        put(buf, &out, &gap, ELLIPSIS)
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, out)


cdef str snippet_of(str text, int32_t* spans, Py_ssize_t n, Py_ssize_t before, Py_ssize_t width):
    """shared/rules/snippet.py `highlight` in C, same output: a window of `text` around the first span,
    every span in it marked **like this**. `spans`: n (start, end) pairs sorted (merged in place)."""
    cdef Py_ssize_t window[2]
    cdef Py_ssize_t m
    cdef uint32_t* buf
    if PyUnicode_GET_LENGTH(text) == 0:
        return ""
    m = snippet_window(text, spans, n, before, width, window)
    m = clip_spans(spans, m, window[0], window[1])
    buf = <uint32_t*>malloc((window[1] - window[0] + 4 * m + 12) * sizeof(uint32_t))
    if buf == NULL:
        raise MemoryError()
    try:
        return snippet_render(text, spans, m, window[0], window[1], buf)
    finally:
        free(buf)


def highlight_spans(str text, list spans, Py_ssize_t before=SNIPPET_BEFORE, Py_ssize_t width=SNIPPET_WIDTH):
    """The C snippet of `text` with (start, end) `spans` marked (tests compare it with snippet.highlight)."""
    cdef Py_ssize_t n = len(spans), i
    cdef int32_t* buf = <int32_t*>malloc((2 * n + 2) * sizeof(int32_t))
    if buf == NULL:
        raise MemoryError()
    try:
        for i, (a, b) in enumerate(sorted(spans)):
            buf[2 * i], buf[2 * i + 1] = a, b
        return snippet_of(text, buf, n, before, width)
    finally:
        free(buf)


cdef void sort_i32(int32_t* a, Py_ssize_t n) noexcept nogil:
    """Insertion sort: the matches of one article are few and come out nearly in order."""
    cdef Py_ssize_t i, j
    cdef int32_t x
    for i in range(1, n):
        x = a[i]
        j = i - 1
        while j >= 0 and a[j] > x:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = x


@cython.final
cdef class Scratch:
    """Working memory for one article at a time (one per thread and Core)."""

    cdef readonly Core core
    cdef uint32_t cur
    cdef readonly unsigned long long serial  # articles begun on this scratch (never wraps in practice)
    # tokens
    cdef int32_t* tok_field
    cdef int32_t* tok_start
    cdef int32_t* tok_end
    cdef int32_t* tok_key
    cdef Py_ssize_t ntok, tcap
    # occurrences per key: singly linked lists of (token, next) in `occ`; kfl holds each key's first
    # and last, valid where the key's bit is set in kbits (cleared per article)
    cdef IVec occ
    cdef int32_t* kfl
    cdef int32_t* present
    cdef Py_ssize_t npresent
    cdef int32_t prev_flags  # flags of the previous token of the field being tokenized (0: not a word)
    # term hits
    cdef uint32_t* tstamp
    cdef int32_t* thoff
    cdef int32_t* thcnt
    cdef IVec hits
    # rules, spans, entities
    cdef IVec cand
    cdef IVec post  # the article's postings (Core.candidates)
    cdef uint32_t* rstate  # per rule: stamp << 24 | 1 once checked (SCORE: distinct keys present)
    cdef uint32_t rstamp  # the article's stamp of rule states, 1 to 255
    cdef uint64_t* mbits  # one bit per rule, all clear between calls (sorting matches)
    cdef uint64_t* mtop  # one bit per word of mbits that has a bit set
    cdef Py_ssize_t mwords
    cdef uint64_t* kbits  # keys present in the article (a bitmap: the key checks stay in L1)
    cdef Py_ssize_t kwords
    cdef IVec sp
    cdef Hit4* det  # one rule's evidence while its details are built (Core.details)
    cdef Py_ssize_t detcap
    cdef HitSlot* htab  # the TermHits made for the article (Core.details): open addressing
    cdef Py_ssize_t hcap, hcount
    cdef SnipSlot* stab  # the snippets made for the article: open addressing on their keys in `skeys`
    cdef Py_ssize_t scap
    cdef IVec skeys
    cdef uint32_t* sbuf  # characters of the snippet being written
    cdef Py_ssize_t sbufcap
    cdef uint32_t* estamp
    cdef uint8_t* eval
    # the article
    cdef int okind[2]
    cdef const void* odata[2]
    cdef int nkind[2]
    cdef const void* ndata[2]
    cdef object doc
    cdef const unsigned char* lang
    cdef bytes _lang

    def __cinit__(self, Core core):
        self.core = core
        self.cur = 0
        self.kfl = <int32_t*>malloc((core.nkeys + 1) * 2 * sizeof(int32_t))
        self.present = <int32_t*>malloc((core.nkeys + 1) * sizeof(int32_t))
        self.tstamp = <uint32_t*>malloc((core.nterms + 1) * sizeof(uint32_t))
        self.thoff = <int32_t*>malloc((core.nterms + 1) * sizeof(int32_t))
        self.thcnt = <int32_t*>malloc((core.nterms + 1) * sizeof(int32_t))
        self.kwords = (core.nkeys + 63) // 64
        self.rstate = <uint32_t*>malloc((core.nrules + 1) * sizeof(uint32_t))
        self.mwords = (core.nrules + 63) // 64
        self.mbits = <uint64_t*>malloc((self.mwords + 1) * sizeof(uint64_t))
        self.mtop = <uint64_t*>malloc((self.mwords // 64 + 1) * sizeof(uint64_t))
        self.kbits = <uint64_t*>malloc((self.kwords + 1) * sizeof(uint64_t))
        self.estamp = <uint32_t*>malloc((core.nentities + 1) * sizeof(uint32_t))
        self.eval = <uint8_t*>malloc(core.nentities + 1)
        if (
            self.kfl == NULL or self.present == NULL
            or self.tstamp == NULL or self.thoff == NULL or self.thcnt == NULL or self.kbits == NULL
            or self.rstate == NULL or self.mbits == NULL or self.mtop == NULL
            or self.estamp == NULL or self.eval == NULL
        ):
            raise MemoryError()
        ivec_reserve(&self.cand, core.nrules + 1)  # a rule is a candidate at most once an article
        self.clear_stamps()

    cdef void clear_stamps(self) noexcept:
        memset(self.mbits, 0, (self.mwords + 1) * sizeof(uint64_t))
        memset(self.mtop, 0, (self.mwords // 64 + 1) * sizeof(uint64_t))
        memset(self.rstate, 0, (self.core.nrules + 1) * sizeof(uint32_t))
        self.rstamp = 0
        memset(self.tstamp, 0, (self.core.nterms + 1) * sizeof(uint32_t))
        memset(self.estamp, 0, (self.core.nentities + 1) * sizeof(uint32_t))

    def __dealloc__(self):
        free(self.tok_field)
        free(self.tok_start)
        free(self.tok_end)
        free(self.tok_key)
        free(self.occ.d)
        free(self.kfl)
        free(self.present)
        free(self.tstamp)
        free(self.thoff)
        free(self.thcnt)
        free(self.hits.d)
        free(self.kbits)
        free(self.rstate)
        free(self.mbits)
        free(self.mtop)
        free(self.cand.d)
        free(self.post.d)
        free(self.sp.d)
        free(self.det)
        free(self.htab)
        free(self.stab)
        free(self.skeys.d)
        free(self.sbuf)
        free(self.estamp)
        free(self.eval)

    cdef void next_article(self) noexcept:
        self.serial += 1
        if self.cur >= 0xFFFFFFF0:
            self.clear_stamps()
            self.cur = 0
        self.cur += 1
        if self.rstamp == 255:
            memset(self.rstate, 0, (self.core.nrules + 1) * sizeof(uint32_t))
            self.rstamp = 0
        self.rstamp += 1
        self.ntok = 0
        self.npresent = 0
        self.occ.n = 0
        self.hits.n = 0
        self.sp.n = 0
        memset(self.kbits, 0, self.kwords * sizeof(uint64_t))

    cdef int grow_tokens(self) except -1:
        cdef Py_ssize_t cap = self.tcap * 2 if self.tcap else 512
        cdef int32_t* a = <int32_t*>realloc(self.tok_field, cap * sizeof(int32_t))
        if a == NULL:
            raise MemoryError()
        self.tok_field = a
        a = <int32_t*>realloc(self.tok_start, cap * sizeof(int32_t))
        if a == NULL:
            raise MemoryError()
        self.tok_start = a
        a = <int32_t*>realloc(self.tok_end, cap * sizeof(int32_t))
        if a == NULL:
            raise MemoryError()
        self.tok_end = a
        a = <int32_t*>realloc(self.tok_key, cap * sizeof(int32_t))
        if a == NULL:
            raise MemoryError()
        self.tok_key = a
        self.tcap = cap
        return 0

    cdef void sort_rules(self) noexcept:
        """Sort s.cand (distinct rule indices): by insertion when few, else through a bitmap of rules
        (and a bitmap of its words that have a bit set)."""
        cdef Py_ssize_t i, w, t, n = 0
        cdef uint64_t x, y
        cdef int32_t r
        if self.cand.n <= 16:
            sort_i32(self.cand.d, self.cand.n)
            return
        for i in range(self.cand.n):
            r = self.cand.d[i]
            self.mbits[r >> 6] |= (<uint64_t>1) << (r & 63)
            self.mtop[r >> 12] |= (<uint64_t>1) << ((r >> 6) & 63)
        for t in range(self.mwords // 64 + 1):
            y = self.mtop[t]
            self.mtop[t] = 0  # left clear for the next article, as the words below
            while y:
                w = (t << 6) + __builtin_ctzll(y)
                y &= y - 1
                x = self.mbits[w]
                self.mbits[w] = 0
                while x:
                    self.cand.d[n] = <int32_t>((w << 6) + __builtin_ctzll(x))
                    n += 1
                    x &= x - 1

    cdef int reset_snippets(self, Py_ssize_t most) except -1:
        """An empty table of snippets for at most `most` of them (one per matched rule)."""
        cdef Py_ssize_t cap = 64
        while cap < 2 * most:
            cap *= 2
        if cap > self.scap:
            free(self.stab)
            self.stab = <SnipSlot*>malloc(cap * sizeof(SnipSlot))
            if self.stab == NULL:
                self.scap = 0
                raise MemoryError()
            self.scap = cap
        memset(self.stab, 0xFF, self.scap * sizeof(SnipSlot))  # made = -1 everywhere
        self.skeys.n = 0
        return 0

    cdef str snippet(self, str text, int32_t f, int32_t* spans, Py_ssize_t n, list snips):
        """The snippet of field `f` (`text`) marking `spans` (n sorted pairs, merged and clipped in place),
        made once per article for each distinct window and marks (`snips` keeps them)."""
        cdef Py_ssize_t window[2]
        cdef Py_ssize_t m, i, need, klen
        cdef uint64_t h = FNV_OFF
        cdef uint64_t mask = <uint64_t>self.scap - 1
        cdef SnipSlot* sl
        cdef int32_t off
        cdef str out
        if PyUnicode_GET_LENGTH(text) == 0:
            return ""
        m = snippet_window(text, spans, n, SNIPPET_BEFORE, SNIPPET_WIDTH, window)
        m = clip_spans(spans, m, window[0], window[1])
        # Its key: field, window and the marks in it.
        klen = 2 * m + 3
        ivec_reserve(&self.skeys, klen)
        off = <int32_t>self.skeys.n
        self.skeys.d[off] = f
        self.skeys.d[off + 1] = <int32_t>window[0]
        self.skeys.d[off + 2] = <int32_t>window[1]
        memcpy(&self.skeys.d[off + 3], spans, 2 * m * sizeof(int32_t))
        for i in range(klen):
            h = (h ^ <uint32_t>self.skeys.d[off + i]) * FNV_PRIME
        i = <Py_ssize_t>(pair_hash(h) & mask)
        while True:
            sl = &self.stab[i]
            if sl.made < 0:
                break
            if sl.hash == h and sl.len == klen and memcmp(
                &self.skeys.d[sl.off], &self.skeys.d[off], klen * sizeof(int32_t)
            ) == 0:
                return <str><object>PyList_GET_ITEM(snips, sl.made)
            i = (i + 1) & mask
        need = window[1] - window[0] + 4 * m + 12  # put_run writes up to 8 past the end
        if need > self.sbufcap:
            free(self.sbuf)
            self.sbuf = <uint32_t*>malloc(need * sizeof(uint32_t))
            if self.sbuf == NULL:
                self.sbufcap = 0
                raise MemoryError()
            self.sbufcap = need
        out = snippet_render(text, spans, m, window[0], window[1], self.sbuf)
        self.skeys.n += klen
        sl.hash, sl.off, sl.len, sl.made = h, off, <int32_t>klen, <int32_t>len(snips)
        snips.append(out)
        return out

    cdef int reset_hit_table(self, Py_ssize_t hint) except -1:
        """An empty table of TermHits with room for about `hint` (it grows as needed)."""
        cdef Py_ssize_t cap = 64
        while cap < 2 * hint:
            cap *= 2
        if cap > self.hcap:
            free(self.htab)
            self.htab = <HitSlot*>malloc(cap * sizeof(HitSlot))
            if self.htab == NULL:
                self.hcap = 0
                raise MemoryError()
            self.hcap = cap
        memset(self.htab, 0xFF, self.hcap * sizeof(HitSlot))  # made = -1 everywhere
        self.hcount = 0
        return 0

    cdef HitSlot* hit_slot(self, PyObject* display, int32_t f, int32_t start, int32_t end) except NULL:
        """The slot of the TermHit (display, f, start, end): `made` >= 0 when it exists, else a fresh slot
        holding the key (the caller sets `made`)."""
        cdef uint64_t h, mask
        cdef HitSlot* sl
        cdef HitSlot* old
        cdef Py_ssize_t i, oldcap
        if 2 * (self.hcount + 1) > self.hcap:
            old, oldcap = self.htab, self.hcap
            self.htab = <HitSlot*>malloc(2 * oldcap * sizeof(HitSlot))
            if self.htab == NULL:
                self.htab = old
                raise MemoryError()
            self.hcap = 2 * oldcap
            memset(self.htab, 0xFF, self.hcap * sizeof(HitSlot))
            self.hcount = 0
            for i in range(oldcap):
                if old[i].made >= 0:
                    self.hit_slot(old[i].display, old[i].f, old[i].s, old[i].e).made = old[i].made
            free(old)
        mask = <uint64_t>self.hcap - 1
        h = pair_hash((<uint64_t><size_t>display) ^ (<uint64_t>start << 33) ^ (<uint64_t>end << 1) ^ f) & mask
        while True:
            sl = &self.htab[h]
            if sl.made < 0:
                sl.display, sl.f, sl.s, sl.e = display, f, start, end
                self.hcount += 1
                return sl
            if sl.display == display and sl.s == start and sl.e == end and sl.f == f:
                return sl
            h = (h + 1) & mask

    cdef inline int add_occ(self, int32_t key, int32_t t) except -1:
        cdef int32_t o = <int32_t>(self.occ.n >> 1)
        cdef uint64_t bit = (<uint64_t>1) << (key & 63)
        if self.occ.n + 2 > self.occ.cap:
            ivec_reserve(&self.occ, 2)
        self.occ.d[self.occ.n] = t
        self.occ.d[self.occ.n + 1] = -1
        self.occ.n += 2
        if not self.kbits[key >> 6] & bit:  # the key's first occurrence in the article
            self.kbits[key >> 6] |= bit
            self.kfl[2 * key] = o
            self.present[self.npresent] = key
            self.npresent += 1
        else:
            self.occ.d[2 * self.kfl[2 * key + 1] + 1] = o
        self.kfl[2 * key + 1] = o
        return 0

    @property
    def nbytes(self):
        """Memory held in C by this scratch (grows with the longest article seen)."""
        return (
            self.tcap * 4 * sizeof(int32_t)
            + (self.occ.cap + self.hits.cap + self.sp.cap + self.cand.cap + self.post.cap)
            * sizeof(int32_t)
            + (self.core.nkeys + 1) * 3 * sizeof(int32_t)
            + (self.core.nterms + 1) * (sizeof(uint32_t) + 2 * sizeof(int32_t))
            + (self.core.nrules + 1) * sizeof(uint32_t) + (self.mwords + 1 + self.mwords // 64 + 1) * sizeof(uint64_t)
            + (self.kwords + 1) * sizeof(uint64_t)
            + (self.core.nentities + 1) * (sizeof(uint32_t) + 1)
        )

    cdef void _set_lang(self, bytes lang):
        # `_lang` keeps the flags alive while `lang` points into them.
        self._lang = lang
        self.lang = lang


@cython.final
cdef class Article:
    """One matched article: what its results need to build their details lazily, all at once.

    `Core.match` sets `rules` (the matched rule indices, int32 bytes); `engine._details(article)` (a
    callable of the engine, engine.py) returns the matches' terms, snippets and scores (`Core.details`),
    built on the first result's first access and shared by all of them.
    """

    cdef readonly object engine
    cdef readonly tuple prepared
    cdef readonly bytes lang
    cdef readonly object doc
    cdef public bytes rules
    cdef public unsigned long long serial  # the match scratch's serial right after this article
    cdef list _details

    def __init__(self, engine, tuple prepared, bytes lang, doc):
        self.engine = engine
        self.prepared = prepared
        self.lang = lang
        self.doc = doc
        self.rules = b""
        self.serial = 0
        self._details = None

    cdef list built(self):
        if self._details is None:
            self._details = self.engine._details(self)
        return self._details

    cdef int fill(self, MatchResult m, Py_ssize_t index) except -1:
        """Give the article's `index`-th result what it lacks of its terms, snippet and score."""
        cdef list d = self.built()
        cdef const double* scores = <const double*><const char*><bytes>d[len(d) - 1]
        if m._terms is None:
            m._terms = d[2 * index]
        if m._snippet is None:
            m._snippet = d[2 * index + 1]
        if not m._scored:
            m._score = scores[index]
            m._scored = True
        return 0

    def details(self, Py_ssize_t index):
        """(terms, snippet, score) of the article's `index`-th match."""
        cdef list d
        if not 0 <= index < len(self.rules) // sizeof(int32_t):
            raise IndexError("no such match")
        d = self.built()
        return d[2 * index], d[2 * index + 1], (<const double*><const char*><bytes>d[len(d) - 1])[index]


@cython.final
@cython.freelist(256)
@cython.no_gc  # it holds strings and a dict of strings and ints only: no cycle can pass through it
cdef class TermHit:
    """One occurrence of a rule term; start/end are character offsets into that field's string."""

    cdef readonly str term
    cdef readonly str field
    cdef readonly Py_ssize_t start
    cdef readonly Py_ssize_t end
    cdef readonly str text
    cdef dict _dict  # the hit as a dict, made once (a hit is shared by the matches of its article)

    def __init__(self, str term, str field, Py_ssize_t start, Py_ssize_t end, str text):
        self.term = term
        self.field = field
        self.start = start
        self.end = end
        self.text = text

    def _key(self):
        return (self.term, self.field, self.start, self.end, self.text)

    def __eq__(self, other):
        if not isinstance(other, TermHit):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (
            f"TermHit(term={self.term!r}, field={self.field!r}, start={self.start!r}, end={self.end!r}, "
            f"text={self.text!r})"
        )

    def __reduce__(self):
        return (TermHit, self._key())

    def as_dict(self):
        """The hit as a plain dict (how a match stores its terms): a fresh one at every call."""
        return PyDict_Copy(shared_dict(self))


cdef inline dict shared_dict(TermHit t):
    """The hit's dict, made on first use and kept: `MatchResult.term_dicts` hands out this one object to
    every match of the article naming the hit (on average 2.2 at 10,000 rules), so nobody may change it."""
    cdef dict d = t._dict
    if d is None:
        d = {"term": t.term, "field": t.field, "start": t.start, "end": t.end, "text": t.text}
        t._dict = d
    return d


@cython.freelist(64)
cdef class MatchResult:
    """A watch that fired on a document, with what matched where.

    `score`, `terms` (TermHits, in text order) and `snippet` (a highlighted window) may be given, or
    are built on first access: by `details` (a callable returning terms and snippet), or, for results of
    `Core.match`, by the article they came from (`article.details(rule)`: terms, snippet and score, in
    one pass for all the article's matches), so callers that only need the ids, such as counts, do not
    pay for them.
    """

    cdef object _watch_id
    cdef object _watch_name
    cdef list _names  # results of Core.match: the engine's per-rule names, read at _rule
    cdef double _score
    cdef bint _scored
    cdef object _terms
    cdef object _snippet
    cdef object _details
    cdef Article _article
    cdef int32_t _rule
    cdef int32_t _index  # results of Core.match: its place among the article's matches

    def __init__(self, watch_id, watch_name, score, terms=None, snippet=None, *, details=None):
        self._watch_id = watch_id
        self._watch_name = watch_name
        self._score = score
        self._scored = True
        self._terms = terms
        self._snippet = snippet
        self._details = details
        self._article = None
        self._rule = -1

    cdef _build(self):
        if self._article is not None:
            self._article.fill(self, self._index)
            self._article = None
            return
        if self._details is not None:
            terms, snippet = self._details()
        else:
            terms, snippet = [], ""
        if self._terms is None:
            self._terms = terms
        if self._snippet is None:
            self._snippet = snippet
        self._details = None

    @property
    def watch_id(self):
        """The id of the watch that fired."""
        return self._watch_id

    @property
    @cython.boundscheck(True)
    def watch_name(self):
        """The name of the watch that fired."""
        return self._names[self._rule] if self._names is not None else self._watch_name

    @property
    def score(self):
        """How strongly the watch matched: the sum of the matched weights of a weighted rule, else the
        number of its distinct terms found (at least 1)."""
        if not self._scored:
            self._build()
        return self._score

    @property
    def terms(self):
        """The term occurrences that made the watch fire, in text order."""
        if self._terms is None:
            self._build()
        return self._terms

    @property
    def snippet(self):
        """A highlighted window of the article around the first hit."""
        if self._snippet is None:
            self._build()
        return self._snippet

    def term_dicts(self):
        """The terms as dicts (term, field, start, end, text), as a Match row stores them: a fresh list,
        but each hit's dict is one object shared by the matches of its article (and by later calls), to be
        read or serialised, never changed (`TermHit.as_dict` gives a copy of one's own)."""
        cdef list out = []
        for t in self.terms:
            out.append(shared_dict(<TermHit>t) if type(t) is TermHit else t.as_dict())
        return out

    def __eq__(self, other):
        if not isinstance(other, MatchResult):
            return NotImplemented
        return (self.watch_id, self.watch_name, self.score, self.terms, self.snippet) == (
            other.watch_id,
            other.watch_name,
            other.score,
            other.terms,
            other.snippet,
        )

    __hash__ = None

    def __repr__(self):
        return f"MatchResult({self.watch_id!r}, {self.watch_name!r}, score={self.score!r})"

    def __reduce__(self):
        return (MatchResult, (self.watch_id, self.watch_name, self.score, self.terms, self.snippet))


cdef MatchResult new_result(list ids, list names, Article article, int32_t rule, int32_t index):
    # Its watch id (prefetched by Core.match); the name is read from the per-rule list when asked.
    cdef MatchResult m = MatchResult.__new__(MatchResult)
    m._watch_id = <object>PyList_GET_ITEM(ids, rule)
    m._names = names
    m._scored = False
    m._article = article
    m._rule = rule
    m._index = index
    return m
