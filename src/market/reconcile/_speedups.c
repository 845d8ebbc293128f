/*
 * C kernels of the matching core's two text hot spots (the core's goal: 500,000 notifications a second), and
 * of the journal's SQLite rows (webhook ingest).
 *
 * Pure functions, with the exact semantics of their Python reference implementations, which stay
 * the specification and the fallback when this module is not built:
 *
 *   scan_batch(memos, fold)  == market.reconcile.memo.scan_batch_python(memos)
 *   near_codes(text, start)  == market.reconcile.matching.references.near_codes_python(text, start)
 *   near_codes_in(text)      == market.reconcile.matching.memo.near_codes_in_python(text)
 *   journal_rows(first_id, items, ...) == the rows of market.reconcile.ingest.journal.rows.DialectSql.row, flattened
 *
 * tests/matching/test_matching_speedups.py and tests/ingest/test_ingest_journal_rows.py check each
 * pair on random and adversarial input.
 * The code alphabet, prefix, length and check weights are compiled in; ``ALPHABET``,
 * ``PREFIX`` and ``WEIGHTS`` are exported so that a test pins them to market.reconcile.codes.
 *
 * Why C: per memo, the Python versions pay for a dozen C calls (regex search, slicing, joins);
 * here a memo is one pass over its characters. See benchmarks/bench_matching.py.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

#define ALPHABET "23456789CGHKMNPTV"
#define MODULUS 17
#define PREFIX_CHAR 'P'
#define CODE_LENGTH 9   /* prefix + 7 symbols + check symbol */
#define NEAR_TAIL 7     /* symbols after the prefix that a near window inspects */
#define BAD 255         /* value of anything that is not a symbol of the alphabet */
#define MAX_WINDOW (CODE_LENGTH + 1)

/* Weights w_i = 3^(i+1) mod 17 and their inverses (codes.py: _WEIGHTS, _INVERSE). */
static const int WEIGHTS[CODE_LENGTH] = {3, 9, 10, 13, 5, 15, 11, 16, 14};
static int INVERSE[CODE_LENGTH];
/* SWAP_DIFFERENCE[total][p]: the (next - this) difference a swap at p, p+1 needs to cancel ``total``. */
static int SWAP_DIFFERENCE[MODULUS][CODE_LENGTH - 1];
/* VALUE[c]: the symbol value of ASCII character c, or BAD. */
static unsigned char VALUE[128];
static int PREFIX_VALUE;

static int mod17(long x) { long r = x % MODULUS; return (int)(r < 0 ? r + MODULUS : r); }

static int inverse_mod17(int x)
{
    x = mod17(x);
    for (int y = 1; y < MODULUS; y++)
        if ((x * y) % MODULUS == 1)
            return y;
    return 0;
}

static void init_tables(void)
{
    memset(VALUE, BAD, sizeof VALUE);
    for (int i = 0; ALPHABET[i]; i++)
        VALUE[(unsigned char)ALPHABET[i]] = (unsigned char)i;
    PREFIX_VALUE = VALUE[PREFIX_CHAR];
    for (int i = 0; i < CODE_LENGTH; i++)
        INVERSE[i] = inverse_mod17(WEIGHTS[i]);
    for (int total = 0; total < MODULUS; total++)
        for (int p = 0; p < CODE_LENGTH - 1; p++)
            SWAP_DIFFERENCE[total][p] = mod17(-total * inverse_mod17(WEIGHTS[p] - WEIGHTS[p + 1]));
}

static int value_of(Py_UCS4 c) { return c < 128 ? VALUE[c] : BAD; }
static int is_symbol(Py_UCS4 c) { return c < 128 && VALUE[c] != BAD; }

/* ---------------------------------------------------------------------------------------------
 * near_codes: valid codes one edit away from the window at ``start`` (codes.near_codes).
 * The window is at most 10 characters; ``w`` holds its characters, ``v`` their values.
 */

typedef struct {
    Py_UCS4 w[MAX_WINDOW];
    int v[MAX_WINDOW];
    int n;
} Window;

static PyObject *ascii_window(const char *text);

static int append_code(PyObject *out, const char *code)
{
    PyObject *s = ascii_window(code);
    if (s == NULL)
        return -1;
    int rc = PyList_Append(out, s);
    Py_DECREF(s);
    return rc;
}

/* Every candidate is made of alphabet symbols only (a foreign character is always the one edited
 * away), so it is built as ASCII from the window's characters. */
static int substitutions(const Window *win, PyObject *out)
{
    if (win->n < CODE_LENGTH)
        return 0;
    int bad = 0, bad_at = -1;
    long total = 0;
    for (int i = 0; i < CODE_LENGTH; i++) {
        if (win->v[i] == BAD) { bad++; bad_at = i; }
        else total += (long)WEIGHTS[i] * win->v[i];
    }
    if (bad > 1)
        return 0;
    char code[CODE_LENGTH];
    for (int i = 0; i < CODE_LENGTH; i++)
        code[i] = win->v[i] == BAD ? '?' : (char)win->w[i];
    if (bad) {  /* the foreign symbol is the one to replace: solve for it */
        code[bad_at] = ALPHABET[mod17(-mod17(total) * INVERSE[bad_at])];
        return append_code(out, code);
    }
    int t = mod17(total);
    if (t == 0)  /* already valid: any substitution would break it */
        return 0;
    for (int p = 1; p < CODE_LENGTH; p++) {
        char keep = code[p];
        code[p] = ALPHABET[mod17(win->v[p] - t * INVERSE[p])];
        if (append_code(out, code) < 0)
            return -1;
        code[p] = keep;
    }
    return 0;
}

static int transpositions(const Window *win, PyObject *out)
{
    if (win->n < CODE_LENGTH)
        return 0;
    long total = 0;
    for (int i = 0; i < CODE_LENGTH; i++) {
        if (win->v[i] == BAD)
            return 0;
        total += (long)WEIGHTS[i] * win->v[i];
    }
    int t = mod17(total);
    if (t == 0)
        return 0;
    char code[CODE_LENGTH];
    for (int i = 0; i < CODE_LENGTH; i++)
        code[i] = (char)win->w[i];
    for (int p = 1; p < CODE_LENGTH - 1; p++) {
        if (mod17(win->v[p + 1] - win->v[p]) != SWAP_DIFFERENCE[t][p])
            continue;
        char a = code[p];
        code[p] = code[p + 1];
        code[p + 1] = a;
        int rc = append_code(out, code);
        code[p + 1] = code[p];
        code[p] = a;
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int omissions(const Window *win, PyObject *out)
{
    const int typed = CODE_LENGTH - 1;
    if (win->n < typed)
        return 0;
    for (int i = 0; i < typed; i++)
        if (win->v[i] == BAD)
            return 0;
    /* before[p]: weighted sum of typed[:p] in place; after[p]: of typed[p:] shifted one place right. */
    long before[CODE_LENGTH], after[CODE_LENGTH];
    before[0] = 0;
    for (int p = 1; p <= typed; p++)
        before[p] = before[p - 1] + (long)WEIGHTS[p - 1] * win->v[p - 1];
    after[typed] = 0;
    for (int p = typed - 1; p >= 0; p--)
        after[p] = after[p + 1] + (long)WEIGHTS[p + 1] * win->v[p];
    char code[CODE_LENGTH];
    for (int p = 1; p <= typed; p++) {
        for (int i = 0; i < p; i++)
            code[i] = (char)win->w[i];
        code[p] = ALPHABET[mod17(-mod17(before[p] + after[p]) * INVERSE[p])];
        for (int i = p; i < typed; i++)
            code[i + 1] = (char)win->w[i];
        if (append_code(out, code) < 0)
            return -1;
    }
    return 0;
}

static int extras(const Window *win, PyObject *out)
{
    const int typed = CODE_LENGTH + 1;
    if (win->n < typed)
        return 0;
    int bad = 0, bad_at = -1;
    for (int i = 0; i < typed; i++)
        if (win->v[i] == BAD) { bad++; bad_at = i; }
    if (bad > 1)
        return 0;
    /* before[p]: weighted sum of typed[:p] in place; after[p]: of typed[p+1:] shifted one place left.
     * Neither includes position p, the symbol dropped. */
    long before[MAX_WINDOW], after[MAX_WINDOW];
    before[0] = 0;
    for (int p = 1; p < typed; p++)
        before[p] = before[p - 1] + (win->v[p - 1] == BAD ? 0 : (long)WEIGHTS[p - 1] * win->v[p - 1]);
    after[typed - 1] = 0;
    for (int p = typed - 2; p >= 0; p--)
        after[p] = after[p + 1] + (win->v[p + 1] == BAD ? 0 : (long)WEIGHTS[p] * win->v[p + 1]);
    char code[CODE_LENGTH];
    for (int p = 1; p < typed; p++) {
        if (bad && p != bad_at)
            continue;
        if (mod17(before[p] + after[p]) != 0)
            continue;
        int k = 0;
        for (int i = 0; i < typed; i++)
            if (i != p)
                code[k++] = (char)win->w[i];
        if (append_code(out, code) < 0)
            return -1;
    }
    return 0;
}

static int prefix_repairs(const Window *win, PyObject *out)
{
    int repairs[3][CODE_LENGTH];
    int lengths[3];
    int count = 2;
    /* The prefix mistyped: the prefix, then symbols 1..8 as typed. */
    repairs[0][0] = PREFIX_VALUE;
    lengths[0] = 1;
    for (int i = 1; i < CODE_LENGTH && i < win->n; i++)
        repairs[0][lengths[0]++] = win->v[i];
    /* The prefix dropped: the prefix, then symbols 0..7 as typed. */
    repairs[1][0] = PREFIX_VALUE;
    lengths[1] = 1;
    for (int i = 0; i < CODE_LENGTH - 1 && i < win->n; i++)
        repairs[1][lengths[1]++] = win->v[i];
    /* The prefix swapped with the next symbol. */
    if (win->n >= 2 && win->w[1] == PREFIX_CHAR) {
        repairs[2][0] = win->v[1];
        repairs[2][1] = win->v[0];
        lengths[2] = 2;
        for (int i = 2; i < CODE_LENGTH && i < win->n; i++)
            repairs[2][lengths[2]++] = win->v[i];
        count = 3;
    }
    for (int r = 0; r < count; r++) {
        if (lengths[r] != CODE_LENGTH)
            continue;
        long total = 0;
        int ok = 1;
        for (int i = 0; i < CODE_LENGTH && ok; i++) {
            if (repairs[r][i] == BAD)
                ok = 0;
            else
                total += (long)WEIGHTS[i] * repairs[r][i];
        }
        if (!ok || mod17(total) != 0)
            continue;
        char code[CODE_LENGTH];
        for (int i = 0; i < CODE_LENGTH; i++)
            code[i] = ALPHABET[repairs[r][i]];
        if (append_code(out, code) < 0)
            return -1;
    }
    return 0;
}

static int near_codes_at(PyObject *text, Py_ssize_t start, PyObject *out)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Window win;
    win.n = 0;
    for (Py_ssize_t i = start; i < length && win.n < MAX_WINDOW; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        win.w[win.n] = c;
        win.v[win.n] = value_of(c);
        win.n++;
    }
    if (win.n == 0 || win.w[0] != PREFIX_CHAR)
        return prefix_repairs(&win, out);
    if (substitutions(&win, out) < 0 || transpositions(&win, out) < 0 || omissions(&win, out) < 0)
        return -1;
    return extras(&win, out);
}

static PyObject *near_codes(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "near_codes(text: str, start: int)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    if (start < 0) {
        PyErr_SetString(PyExc_ValueError, "near_codes: start must be >= 0");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    if (near_codes_at(args[0], start, out) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * Near windows: ``P`` followed by 7 characters of which at most one is foreign (not a symbol).
 * NUL never counts as foreign (it separates memos in the Python batch scan).
 */

static int near_at(int kind, const void *data, Py_ssize_t length, Py_ssize_t i)
{
    if (PyUnicode_READ(kind, data, i) != PREFIX_CHAR || i + NEAR_TAIL >= length)
        return 0;
    int foreign = 0;
    for (Py_ssize_t j = i + 1; j <= i + NEAR_TAIL; j++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, j);
        if (is_symbol(c))
            continue;
        if (c == 0 || ++foreign > 1)
            return 0;
    }
    return 1;
}

static PyObject *near_codes_in(PyObject *self, PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_SetString(PyExc_TypeError, "near_codes_in(text: str)");
        return NULL;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    PyObject *out = PyList_New(0);
    if (out == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i + NEAR_TAIL < length; i++) {
        if (near_at(kind, data, length, i) && near_codes_at(text, i, out) < 0) {
            Py_DECREF(out);
            return NULL;
        }
    }
    return out;
}

/* ---------------------------------------------------------------------------------------------
 * scan_batch: per memo, None when no near window, else the tuple of exact windows (memo.scan).
 */

/* COMPACTED[c]: what ASCII byte c becomes in compacted text: letters upper-cased, digits kept,
 * everything else dropped (0). */
static unsigned char COMPACTED[256];

static void init_compacted(void)
{
    for (int c = '0'; c <= '9'; c++) COMPACTED[c] = (unsigned char)c;
    for (int c = 'A'; c <= 'Z'; c++) COMPACTED[c] = (unsigned char)c;
    for (int c = 'a'; c <= 'z'; c++) COMPACTED[c] = (unsigned char)(c - 'a' + 'A');
}

/* Compact ``memo`` (already folded) into ``buffer``: ASCII letters upper-cased, digits kept,
 * everything else (non-ASCII included) dropped. Returns the compacted length. */
static Py_ssize_t compact(PyObject *memo, char *buffer)
{
    Py_ssize_t length = PyUnicode_GET_LENGTH(memo), n = 0;
    if (PyUnicode_IS_ASCII(memo)) {  /* nearly every memo: one table lookup a byte */
        const unsigned char *data = PyUnicode_1BYTE_DATA(memo);
        for (Py_ssize_t i = 0; i < length; i++) {
            unsigned char c = COMPACTED[data[i]];
            buffer[n] = (char)c;
            n += c != 0;
        }
        return n;
    }
    int kind = PyUnicode_KIND(memo);
    const void *data = PyUnicode_DATA(memo);
    for (Py_ssize_t i = 0; i < length; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 128 && COMPACTED[c])
            buffer[n++] = (char)COMPACTED[c];
    }
    return n;
}

static int exact_at(const char *text, Py_ssize_t length, Py_ssize_t i)
{
    if (text[i] != PREFIX_CHAR || i + CODE_LENGTH > length)
        return 0;
    for (Py_ssize_t j = i + 1; j < i + CODE_LENGTH; j++)
        if (VALUE[(unsigned char)text[j]] == BAD)
            return 0;
    return 1;
}

static int near_in_compact(const char *text, Py_ssize_t length, Py_ssize_t i)
{
    if (text[i] != PREFIX_CHAR || i + NEAR_TAIL >= length)
        return 0;
    int foreign = 0;
    for (Py_ssize_t j = i + 1; j <= i + NEAR_TAIL; j++)
        if (VALUE[(unsigned char)text[j]] == BAD && ++foreign > 1)
            return 0;
    return 1;
}

/* The next prefix after ``p`` in ``text``, or NULL. */
static const char *next_prefix(const char *text, Py_ssize_t length, const char *p)
{
    return memchr(p + 1, PREFIX_CHAR, (size_t)(length - (p + 1 - text)));
}

/* A 9-character ASCII str (cheaper than decoding it as UTF-8). */
static PyObject *ascii_window(const char *text)
{
    PyObject *window = PyUnicode_New(CODE_LENGTH, 127);
    if (window != NULL)
        memcpy(PyUnicode_1BYTE_DATA(window), text, CODE_LENGTH);
    return window;
}

static PyObject *scan_compacted(const char *text, Py_ssize_t length)
{
    /* Only a prefix can start a window: jump from one to the next. */
    Py_ssize_t first = -1;
    for (const char *p = memchr(text, PREFIX_CHAR, length); p != NULL; p = next_prefix(text, length, p)) {
        if (near_in_compact(text, length, p - text)) { first = p - text; break; }
    }
    if (first < 0)
        Py_RETURN_NONE;
    /* The exact windows from there on: only a prefix can start one, so both passes (count, then
     * fill the tuple) jump from prefix to prefix. */
    Py_ssize_t count = 0;
    for (const char *p = text + first; p != NULL; p = next_prefix(text, length, p))
        count += exact_at(text, length, p - text);
    PyObject *windows = PyTuple_New(count);
    if (windows == NULL)
        return NULL;
    Py_ssize_t k = 0;
    for (const char *p = text + first; p != NULL && k < count; p = next_prefix(text, length, p)) {
        if (!exact_at(text, length, p - text))
            continue;
        PyObject *window = ascii_window(p);
        if (window == NULL) {
            Py_DECREF(windows);
            return NULL;
        }
        PyTuple_SET_ITEM(windows, k++, window);
    }
    return windows;
}

static PyObject *scan_batch(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "scan_batch(memos: Sequence[str], fold: Callable[[str], str])");
        return NULL;
    }
    PyObject *memos = PySequence_Fast(args[0], "scan_batch: memos must be a sequence");
    if (memos == NULL)
        return NULL;
    PyObject *fold = args[1];
    Py_ssize_t count = PySequence_Fast_GET_SIZE(memos);
    PyObject *out = PyList_New(count);
    char small[512];
    char *buffer = small;
    Py_ssize_t capacity = sizeof small;
    if (out == NULL)
        goto fail;
    for (Py_ssize_t m = 0; m < count; m++) {
        PyObject *memo = PySequence_Fast_GET_ITEM(memos, m);
        if (!PyUnicode_Check(memo)) {
            PyErr_Format(PyExc_TypeError, "scan_batch: memo %zd is not a str", m);
            goto fail;
        }
        PyObject *folded;
        if (PyUnicode_IS_ASCII(memo)) {
            folded = memo;
            Py_INCREF(folded);
        } else {  /* diacritics off first (đ → d...), as memo.scan does; rare in bank memos */
            folded = PyObject_CallOneArg(fold, memo);
            if (folded == NULL)
                goto fail;
            if (!PyUnicode_Check(folded)) {
                Py_DECREF(folded);
                PyErr_SetString(PyExc_TypeError, "scan_batch: fold must return a str");
                goto fail;
            }
        }
        Py_ssize_t need = PyUnicode_GET_LENGTH(folded);
        if (PyUnicode_IS_ASCII(folded)) {
            /* No P at all (most static-QR memos): no window can start, nothing to compact. */
            const char *raw = (const char *)PyUnicode_1BYTE_DATA(folded);
            if (memchr(raw, PREFIX_CHAR, need) == NULL && memchr(raw, PREFIX_CHAR + 'a' - 'A', need) == NULL) {
                Py_DECREF(folded);
                Py_INCREF(Py_None);
                PyList_SET_ITEM(out, m, Py_None);
                continue;
            }
        }
        if (need > capacity) {
            char *bigger = PyMem_Malloc(need);
            if (bigger == NULL) {
                Py_DECREF(folded);
                PyErr_NoMemory();
                goto fail;
            }
            if (buffer != small)
                PyMem_Free(buffer);
            buffer = bigger;
            capacity = need;
        }
        Py_ssize_t length = compact(folded, buffer);
        Py_DECREF(folded);
        PyObject *windows = scan_compacted(buffer, length);
        if (windows == NULL)
            goto fail;
        PyList_SET_ITEM(out, m, windows);
    }
    if (buffer != small)
        PyMem_Free(buffer);
    Py_DECREF(memos);
    return out;
fail:
    if (buffer != small)
        PyMem_Free(buffer);
    Py_XDECREF(out);
    Py_DECREF(memos);
    return NULL;
}


/* ---------------------------------------------------------------------------------------------
 * journal_rows: the SQLite journal's INSERT parameters for a chunk of deliveries.
 *
 * journal_rows(first_id, items, pending, review, sqlite_time, json_text)
 *     == list(chain.from_iterable(map(DialectSql.row, ids, items))) on SQLite (market.reconcile.ingest.journal.rows),
 * with ids first_id, first_id + 1, ..., the two statuses and the two Python encoders the journal
 * uses (``_sqlite_time``, ``json_text``). Building each row's 21 values
 * in Python (attribute loads, two time strings, the headers' JSON) is a large share of a
 * delivery's cost; here it is one pass. What is not the common case goes back to the Python encoders:
 * a time that is not an exact UTC datetime (``_sqlite_time`` raises
 * on a naive one), headers that are not plain printable ASCII.
 */

enum {
    A_NOTIFICATION, A_RAW_BODY, A_RAW_HEADERS, A_AUTH, A_REVIEW_REASON,
    A_PROVIDER, A_PROVIDER_TXN_ID, A_AMOUNT, A_DIRECTION, A_MEMO, A_TRANSFERRED_AT, A_RECEIVED_AT,
    A_BANK_REFERENCE, A_ACCOUNT_NUMBER, A_BANK_BIN, A_VIRTUAL_ACCOUNT, A_ORDER_CODE,
    A_COUNTERPARTY_NAME, A_COUNTERPARTY_ACCOUNT, A_COUNTERPARTY_BANK, A_COUNT
};
static const char *const ATTRIBUTE[A_COUNT] = {
    "notification", "raw_body", "raw_headers", "auth", "review_reason",
    "provider", "provider_txn_id", "amount", "direction", "memo", "transferred_at", "received_at",
    "bank_reference", "account_number", "bank_bin", "virtual_account", "order_code",
    "counterparty_name", "counterparty_account", "counterparty_bank",
};
#define ROW_VALUES 21
static PyObject *NAME[A_COUNT];
/* The statuses and the Python encoders a journal_rows call was given (borrowed from its arguments). */
typedef struct {
    PyObject *pending, *review, *sqlite_time, *json_text;
} RowContext;

static void put2(char *p, int v) { p[0] = (char)('0' + v / 10); p[1] = (char)('0' + v % 10); }

/* What _sqlite_time stores: "YYYY-MM-DD HH:MM:SS.ffffff", naive UTC. */
static PyObject *sqlite_time(const RowContext *context, PyObject *value)
{
    if (!PyDateTime_CheckExact(value) || PyDateTime_DATE_GET_TZINFO(value) != PyDateTime_TimeZone_UTC)
        return PyObject_CallOneArg(context->sqlite_time, value);
    PyObject *text = PyUnicode_New(26, 127);
    if (text == NULL)
        return NULL;
    char *p = (char *)PyUnicode_1BYTE_DATA(text);
    int year = PyDateTime_GET_YEAR(value), micro = PyDateTime_DATE_GET_MICROSECOND(value);
    put2(p, year / 100); put2(p + 2, year % 100); p[4] = '-';
    put2(p + 5, PyDateTime_GET_MONTH(value)); p[7] = '-';
    put2(p + 8, PyDateTime_GET_DAY(value)); p[10] = ' ';
    put2(p + 11, PyDateTime_DATE_GET_HOUR(value)); p[13] = ':';
    put2(p + 14, PyDateTime_DATE_GET_MINUTE(value)); p[16] = ':';
    put2(p + 17, PyDateTime_DATE_GET_SECOND(value)); p[19] = '.';
    put2(p + 20, micro / 10000); put2(p + 22, micro / 100 % 100); put2(p + 24, micro % 100);
    return text;
}

/* Printable ASCII with nothing to escape: JSON writes it as it is. */
static int plain_ascii(PyObject *text)
{
    if (!PyUnicode_CheckExact(text) || !PyUnicode_IS_ASCII(text))
        return 0;
    const Py_UCS1 *c = PyUnicode_1BYTE_DATA(text);
    for (Py_ssize_t i = 0, n = PyUnicode_GET_LENGTH(text); i < n; i++)
        if (c[i] < 0x20 || c[i] == '"' || c[i] == '\\')
            return 0;
    return 1;
}

/* msgspec.json.encode(headers).decode() for a dict of plain ASCII strings; the fallback otherwise. */
static PyObject *headers_json(const RowContext *context, PyObject *headers)
{
    if (!PyDict_CheckExact(headers))
        return PyObject_CallOneArg(context->json_text, headers);
    Py_ssize_t pos = 0, size = 2;
    PyObject *key, *value;
    while (PyDict_Next(headers, &pos, &key, &value)) {
        if (!plain_ascii(key) || !plain_ascii(value))
            return PyObject_CallOneArg(context->json_text, headers);
        size += PyUnicode_GET_LENGTH(key) + PyUnicode_GET_LENGTH(value) + 6; /* "k":"v", */
    }
    if (PyDict_GET_SIZE(headers))
        size -= 1; /* no comma after the last pair */
    PyObject *text = PyUnicode_New(size, 127);
    if (text == NULL)
        return NULL;
    char *p = (char *)PyUnicode_1BYTE_DATA(text);
    *p++ = '{';
    pos = 0;
    while (PyDict_Next(headers, &pos, &key, &value)) {
        if (p[-1] != '{')
            *p++ = ',';
        *p++ = '"';
        memcpy(p, PyUnicode_1BYTE_DATA(key), PyUnicode_GET_LENGTH(key));
        p += PyUnicode_GET_LENGTH(key);
        *p++ = '"'; *p++ = ':'; *p++ = '"';
        memcpy(p, PyUnicode_1BYTE_DATA(value), PyUnicode_GET_LENGTH(value));
        p += PyUnicode_GET_LENGTH(value);
        *p++ = '"';
    }
    *p = '}';
    return text;
}

/* Fill out[0..ROW_VALUES) (new references) with the row of ``item``; 0, or -1 with an exception. */
static int journal_row(const RowContext *context, PyObject *row_id, PyObject *item, PyObject **out)
{
    PyObject *a[A_COUNT] = {NULL};
    int status = -1;
    PyObject *n = a[A_NOTIFICATION] = PyObject_GetAttr(item, NAME[A_NOTIFICATION]);
    if (n == NULL)
        goto done;
    for (int i = A_RAW_BODY; i < A_COUNT; i++)
        if ((a[i] = PyObject_GetAttr(i < A_PROVIDER ? item : n, NAME[i])) == NULL)
            goto done;
    int review = PyObject_IsTrue(a[A_REVIEW_REASON]);
    if (review < 0)
        goto done;
    PyObject *transferred = sqlite_time(context, a[A_TRANSFERRED_AT]);
    if (transferred == NULL)
        goto done;
    PyObject *received = sqlite_time(context, a[A_RECEIVED_AT]);
    if (received == NULL) {
        Py_DECREF(transferred);
        goto done;
    }
    PyObject *headers = headers_json(context, a[A_RAW_HEADERS]);
    if (headers == NULL) {
        Py_DECREF(transferred);
        Py_DECREF(received);
        goto done;
    }
    PyObject *status_text = review ? context->review : context->pending;
    Py_INCREF(row_id);
    Py_INCREF(status_text);
    PyObject *row[ROW_VALUES] = {
        row_id, a[A_PROVIDER], a[A_PROVIDER_TXN_ID], status_text, a[A_REVIEW_REASON], a[A_AMOUNT],
        a[A_DIRECTION], a[A_MEMO], transferred, received, a[A_BANK_REFERENCE], a[A_ACCOUNT_NUMBER],
        a[A_BANK_BIN], a[A_VIRTUAL_ACCOUNT], a[A_ORDER_CODE], a[A_COUNTERPARTY_NAME],
        a[A_COUNTERPARTY_ACCOUNT], a[A_COUNTERPARTY_BANK], a[A_AUTH], a[A_RAW_BODY], headers,
    };
    /* The row holds the references now; those of a[] it does not use are dropped below. */
    a[A_PROVIDER] = a[A_PROVIDER_TXN_ID] = a[A_REVIEW_REASON] = a[A_AMOUNT] = a[A_DIRECTION] = NULL;
    a[A_MEMO] = a[A_BANK_REFERENCE] = a[A_ACCOUNT_NUMBER] = a[A_BANK_BIN] = a[A_VIRTUAL_ACCOUNT] = NULL;
    a[A_ORDER_CODE] = a[A_COUNTERPARTY_NAME] = a[A_COUNTERPARTY_ACCOUNT] = a[A_COUNTERPARTY_BANK] = NULL;
    a[A_AUTH] = a[A_RAW_BODY] = NULL;
    memcpy(out, row, sizeof row);
    status = 0;
done:
    for (int i = 0; i < A_COUNT; i++)
        Py_XDECREF(a[i]);
    return status;
}

static PyObject *journal_rows(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "journal_rows(first_id, items, pending, review, sqlite_time, json_text)");
        return NULL;
    }
    const RowContext context = {args[2], args[3], args[4], args[5]};
    Py_ssize_t first = PyLong_AsSsize_t(args[0]);
    if (first == -1 && PyErr_Occurred())
        return NULL;
    /* A private list: the fallbacks and attribute lookups run Python code, which must not be able
     * to shrink the caller's sequence under us (its items are borrowed from this copy). */
    PyObject *items = PySequence_List(args[1]);
    if (items == NULL)
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(items);
    PyObject *out = PyList_New(count * ROW_VALUES);
    if (out == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *row_id = PyLong_FromSsize_t(first + i);
        if (row_id == NULL)
            goto fail;
        int failed = journal_row(&context, row_id, PyList_GET_ITEM(items, i),
                                 ((PyListObject *)out)->ob_item + i * ROW_VALUES);
        Py_DECREF(row_id);
        if (failed)
            goto fail; /* the list's unfilled slots are NULL, which its dealloc skips */
    }
    Py_DECREF(items);
    return out;
fail:
    Py_XDECREF(out);
    Py_DECREF(items);
    return NULL;
}

static PyMethodDef methods[] = {
    {"scan_batch", (PyCFunction)(void (*)(void))scan_batch, METH_FASTCALL,
     "scan_batch(memos, fold) -> list[tuple[str, ...] | None]: memo.scan for every memo."},
    {"near_codes", (PyCFunction)(void (*)(void))near_codes, METH_FASTCALL,
     "near_codes(text, start) -> list[str]: valid codes one edit away from the window at start."},
    {"near_codes_in", (PyCFunction)near_codes_in, METH_O,
     "near_codes_in(text) -> list[str]: near_codes at every near window of compacted text."},
    {"journal_rows", (PyCFunction)(void (*)(void))journal_rows, METH_FASTCALL,
     "journal_rows(first_id, items, pending, review, sqlite_time, json_text) -> list: the SQLite journal's "
     "INSERT parameters of items."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "market.reconcile._speedups",
    "C kernels of the matching core's memo scan and fuzzy candidates, and of the journal's rows (see _speedups.c).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__speedups(void)
{
    init_tables();
    init_compacted();
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL)
        return NULL;
    for (int i = 0; i < A_COUNT; i++)
        if ((NAME[i] = PyUnicode_InternFromString(ATTRIBUTE[i])) == NULL)
            return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    PyObject *weights = Py_BuildValue("(iiiiiiiii)", WEIGHTS[0], WEIGHTS[1], WEIGHTS[2], WEIGHTS[3], WEIGHTS[4],
                                      WEIGHTS[5], WEIGHTS[6], WEIGHTS[7], WEIGHTS[8]);
    if (PyModule_AddStringConstant(m, "ALPHABET", ALPHABET) < 0
        || PyModule_AddStringConstant(m, "PREFIX", "P") < 0
        || PyModule_AddObject(m, "WEIGHTS", weights) < 0
#ifdef MARKET_SOURCE_HASH
        || PyModule_AddStringConstant(m, "SOURCE_HASH", MARKET_SOURCE_HASH) < 0
#endif
    ) {
        Py_XDECREF(weights);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
