/* nystrom C API: the engine for C and for other languages' foreign-function
 * interfaces. Compiles as C99 and as C++; link with libnystrom.so, or with
 * libnystrom.a and the C++ runtime (`pkg-config --cflags --libs nystrom`
 * gives the first, `pkg-config --static --cflags --libs nystrom` the second).
 *
 * Typical use:
 *   nystrom_model* model;
 *   nystrom_session* session;
 *   if (nystrom_model_open("model.nyf", &model) != NYSTROM_OK) {   (or nystrom_model_open_with)
 *     fprintf(stderr, "%s\n", nystrom_last_error());
 *     return 1;
 *   }
 *   nystrom_session_create(model, NULL, &session);   (NULL: default options)
 *   nystrom_session_run(session, ids, n);      (ids from nystrom_tokenize, or your own)
 *   nystrom_session_hidden(session, &data, &rows, &hidden);
 *   nystrom_session_free(session);
 *   nystrom_model_free(model);
 *
 * Rules that hold for every function:
 * - It returns a nystrom_status (the few that cannot fail say so) and never
 *   throws, aborts or exits; a NULL pointer argument gives
 *   NYSTROM_ERROR_INVALID_ARGUMENT.
 * - nystrom_last_error() then holds a one-line message for the calling
 *   thread; each call resets it, so it is "" after a call that succeeded.
 * - A model is immutable and may be shared by any number of threads and
 *   sessions. A session is used by one thread at a time; run one session per
 *   thread to run in parallel (outputs do not depend on the thread count).
 * - Pointers the library hands out stay valid as long as the object they
 *   come from: a model's labels until nystrom_model_free, a session's results
 *   until its next run or nystrom_session_free. A session keeps its model
 *   alive, so the model may be freed first.
 */
#ifndef NYSTROM_NYSTROM_C_H
#define NYSTROM_NYSTROM_C_H

#include <stddef.h>
#include <stdint.h>

#include "nystrom/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum nystrom_status {
  NYSTROM_OK = 0,
  NYSTROM_ERROR_INVALID_ARGUMENT = 1, /* NULL pointer, bad option, too small a buffer, no result yet */
  NYSTROM_ERROR_IO = 2,               /* the model file cannot be opened or read */
  NYSTROM_ERROR_FORMAT = 3,           /* not a valid .nyf file (magic, version, checksum, tables) */
  NYSTROM_ERROR_INPUT = 4,            /* empty or over-long input, token id outside the vocabulary */
  NYSTROM_ERROR_OUT_OF_MEMORY = 5,
  NYSTROM_ERROR_CANCELLED = 6,        /* a batch or progress callback returned nonzero */
  NYSTROM_ERROR_INTERNAL = 7,         /* anything else: a bug */
  NYSTROM_ERROR_BUFFER_TOO_SMALL = 8  /* the result did not fit; the size it needs was set */
} nystrom_status;

/* Values of nystrom_session_options.attention (see RunOptions in nystrom.h):
 * AUTO follows the checkpoint, exact when its num_landmarks equals its
 * segment_means_seq_len; any mode is exact when n <= landmarks. */
typedef enum nystrom_attention {
  NYSTROM_ATTENTION_AUTO = 0,
  NYSTROM_ATTENTION_NYSTROM = 1,
  NYSTROM_ATTENTION_EXACT = 2
} nystrom_attention;

/* Values of nystrom_session_options.attention_precision (AttentionPrecision
 * in nystrom.h): the arithmetic of the Nystrom attention's own products.
 * BF16 is fast where the CPU has AVX-512 BF16 and slower than F32 elsewhere. */
typedef enum nystrom_attention_precision {
  NYSTROM_PRECISION_F32 = 0,
  NYSTROM_PRECISION_INT8 = 1,
  NYSTROM_PRECISION_BF16 = 2
} nystrom_attention_precision;

typedef enum nystrom_head_type {
  NYSTROM_HEAD_NONE = 0,
  NYSTROM_HEAD_MASKED_LM = 1,
  NYSTROM_HEAD_CLASSIFIER = 2
} nystrom_head_type;

/* What a classifier's logits mean (ProblemType in nystrom.h): softmax over
 * the labels, a sigmoid per label, or the predicted values themselves. */
typedef enum nystrom_problem_type {
  NYSTROM_PROBLEM_SINGLE_LABEL = 0,
  NYSTROM_PROBLEM_MULTI_LABEL = 1,
  NYSTROM_PROBLEM_REGRESSION = 2
} nystrom_problem_type;

typedef enum nystrom_activation {
  NYSTROM_ACTIVATION_GELU_TANH = 0,
  NYSTROM_ACTIVATION_GELU_ERF = 1,
  NYSTROM_ACTIVATION_RELU = 2
} nystrom_activation;

/* One embedding per sequence: row 0 of the hidden state, or the mean of all
 * its rows. */
typedef enum nystrom_pooling {
  NYSTROM_POOLING_FIRST = 0,
  NYSTROM_POOLING_MEAN = 1
} nystrom_pooling;

/* Values of nystrom_session_options.outputs: what a run computes besides
 * the hidden state. HIDDEN_ONLY skips the head (for a masked-LM model, the
 * n x vocab_size logits), e.g. to embed. */
typedef enum nystrom_outputs {
  NYSTROM_OUTPUTS_ALL = 0,
  NYSTROM_OUTPUTS_HIDDEN_ONLY = 1
} nystrom_outputs;

typedef struct nystrom_model nystrom_model;     /* opaque */
typedef struct nystrom_session nystrom_session; /* opaque */

/* The checkpoint's sizes. Fixed-width fields, so that FFIs can mirror it. */
typedef struct nystrom_config {
  uint32_t vocab_size;
  uint32_t hidden_size;
  uint32_t num_layers;
  uint32_t num_heads;
  uint32_t intermediate_size;
  uint32_t max_positions; /* longest input, in tokens */
  uint32_t type_vocab_size;
  uint32_t num_landmarks;
  uint32_t segment_means_len;
  uint32_t conv_kernel;   /* 0: no depthwise conv skip */
  int32_t activation;     /* nystrom_activation */
  int32_t head;           /* nystrom_head_type */
  uint32_t num_labels;    /* classifier classes; 0 for other heads */
  float layer_norm_eps;
  int32_t problem_type;   /* nystrom_problem_type; SINGLE_LABEL for heads other than a classifier */
} nystrom_config;

/* All zeros (or a NULL pointer where one is accepted) means the defaults. */
typedef struct nystrom_session_options {
  int32_t attention;           /* nystrom_attention */
  uint32_t landmarks;          /* 0: the model's num_landmarks; else asks for Nystrom with this many */
  int32_t threads;             /* 0: the CPUs this process may run on; else 1..1024 */
  int32_t attention_precision; /* nystrom_attention_precision */
  int32_t outputs;             /* nystrom_outputs */
} nystrom_session_options;

/* All zeros (or a NULL pointer) means the defaults. */
typedef struct nystrom_open_options {
  int32_t threads;       /* threads that repack the weights at load; 0: the CPUs this process may run on */
  int32_t skip_checksum; /* nonzero: do not verify the whole-file checksum (the header, tables and sizes
                            are still checked) */
} nystrom_open_options;

/* "X.Y.Z", the library's version. Cannot fail. */
NYSTROM_API const char* nystrom_version(void);

/* The message of this thread's last call: "" after a success. Never NULL;
 * valid until this thread's next call into the library. Cannot fail. */
NYSTROM_API const char* nystrom_last_error(void);

/* Short name of a status ("NYSTROM_ERROR_IO"), "unknown" for other values.
 * Cannot fail; does not touch the last error. (Enum values are passed to
 * the library as int, so that any value a caller passes is well defined.) */
NYSTROM_API const char* nystrom_status_name(int status);

/* Caps the kernels' instruction set, process-wide: "scalar", "avx2",
 * "avx512", "neon" or "neon_dot" (any case); the best level at or below the cap that
 * the CPU supports runs. Call it before opening models (quantized weights
 * are repacked for the level in use at open). */
NYSTROM_API nystrom_status nystrom_set_isa_cap(const char* name);

/* The instruction set in use now ("scalar", "avx2", ...). Cannot fail. */
NYSTROM_API const char* nystrom_isa(void);

/* ------------------------------------------------------------------ models */

/* Maps and validates a .nyf file; *model is NULL on failure. A file that
 * cannot be read is NYSTROM_ERROR_IO, one that is not valid
 * NYSTROM_ERROR_FORMAT. */
NYSTROM_API nystrom_status nystrom_model_open(const char* path, nystrom_model** model);
/* The same with options (NULL: the defaults, as nystrom_model_open). */
NYSTROM_API nystrom_status nystrom_model_open_with(const char* path, const nystrom_open_options* options,
                                                   nystrom_model** model);
/* NULL is allowed and ignored. Cannot fail. */
NYSTROM_API void nystrom_model_free(nystrom_model* model);
NYSTROM_API nystrom_status nystrom_model_config(const nystrom_model* model, nystrom_config* config);
/* The name of classifier class `index` (0 .. num_labels - 1). */
NYSTROM_API nystrom_status nystrom_model_label(const nystrom_model* model, size_t index, const char** label);

/* -------------------------------------------------------------- tokenizer */

/* A model file converted with the checkpoint's tokenizer files (format
 * version 3) holds a tokenizer; the functions below use it. The first of them
 * that needs it builds it (thread-safe); NYSTROM_ERROR_FORMAT if its files
 * are malformed. On a model without one they give
 * NYSTROM_ERROR_INVALID_ARGUMENT. */

/* *has = 1 when the model holds a tokenizer, else 0. Does not build it. */
NYSTROM_API nystrom_status nystrom_model_has_tokenizer(const nystrom_model* model, int* has);

/* The token ids of text (NUL-terminated UTF-8; invalid bytes read as
 * U+FFFD); add_special nonzero adds the template's special tokens
 * ([CLS] text [SEP]). *count is set to the number of ids whenever the text
 * was tokenized; if it exceeds capacity, nothing is written to ids and the
 * status is NYSTROM_ERROR_BUFFER_TOO_SMALL (call again with a larger
 * buffer). ids may be NULL when capacity is 0. The ids may be more than the
 * model accepts (nystrom_config.max_positions); truncating is the caller's
 * choice. */
NYSTROM_API nystrom_status nystrom_tokenize(const nystrom_model* model, const char* text, int add_special, int32_t* ids,
                                            size_t capacity, size_t* count);

/* The vocabulary's string for id ("##ing", "[MASK]"), NUL-terminated into
 * buf. *length is set to its length in bytes without the NUL; if
 * length + 1 exceeds capacity, nothing is written and the status is
 * NYSTROM_ERROR_BUFFER_TOO_SMALL. An id outside the tokenizer's vocabulary
 * is NYSTROM_ERROR_INPUT. buf may be NULL when capacity is 0. */
NYSTROM_API nystrom_status nystrom_token_string(const nystrom_model* model, int32_t id, char* buf, size_t capacity,
                                                size_t* length);

/* Readable text for n ids (subword markers removed; special tokens left out
 * when skip_special is nonzero), NUL-terminated into buf, with the same
 * length and capacity rules as nystrom_token_string. An id outside the
 * tokenizer's vocabulary is NYSTROM_ERROR_INPUT. ids may be NULL when n is
 * 0. */
NYSTROM_API nystrom_status nystrom_decode(const nystrom_model* model, const int32_t* ids, size_t n, int skip_special,
                                          char* buf, size_t capacity, size_t* length);

/* *size = the number of ids the tokenizer knows (at most the model's
 * vocab_size: the model's vocabulary may be padded beyond it). */
NYSTROM_API nystrom_status nystrom_tokenizer_vocab_size(const nystrom_model* model, int32_t* size);

/* *id = the mask token's id ([MASK], <mask>), or -1 if the vocabulary has none. */
NYSTROM_API nystrom_status nystrom_tokenizer_mask_id(const nystrom_model* model, int32_t* id);

/* ---------------------------------------------------------------- sessions */

/* options may be NULL for the defaults; *session is NULL on failure. */
NYSTROM_API nystrom_status nystrom_session_create(const nystrom_model* model, const nystrom_session_options* options,
                                                  nystrom_session** session);
/* NULL is allowed and ignored. Cannot fail. */
NYSTROM_API void nystrom_session_free(nystrom_session* session);

/* Runs one sequence of n token ids; its results replace the session's last
 * ones. A failed run leaves the session with no result. */
NYSTROM_API nystrom_status nystrom_session_run(nystrom_session* session, const int32_t* ids, size_t n);

/* As nystrom_session_run, but a masked-LM head computes only the logits of
 * the count given positions (e.g. the masks), in that order: count x
 * vocab_size floats, each row bit for bit the row nystrom_session_run gives;
 * count 0 computes none. Other heads compute their usual logits. A position
 * not below n is NYSTROM_ERROR_INPUT. */
NYSTROM_API nystrom_status nystrom_session_run_positions(nystrom_session* session, const int32_t* ids, size_t n,
                                                         const size_t* positions, size_t count);

/* Called on the running thread after each encoder layer of a run (layer =
 * 1 .. layers). Return 0 to go on, nonzero to stop the run with
 * NYSTROM_ERROR_CANCELLED (the session is then left with no result). */
typedef int (*nystrom_progress_fn)(void* user, int layer, int layers);

/* Sets the session's progress callback for its later runs (NULL: none). */
NYSTROM_API nystrom_status nystrom_session_set_progress(nystrom_session* session, nystrom_progress_fn callback,
                                                        void* user);

/* The last result's hidden state: *n rows of *hidden floats, row-major. */
NYSTROM_API nystrom_status nystrom_session_hidden(const nystrom_session* session, const float** data, size_t* n,
                                                  size_t* hidden);
/* The last result's logits: n x vocab_size row-major for a masked-LM head
 * (count x vocab_size after nystrom_session_run_positions), num_labels for a
 * classifier; NULL and 0 for a model without a head or a session whose
 * outputs are NYSTROM_OUTPUTS_HIDDEN_ONLY. */
NYSTROM_API nystrom_status nystrom_session_logits(const nystrom_session* session, const float** data, size_t* count);
/* Writes hidden_size floats, the pooled embedding of the last result, to
 * out; pooling is a nystrom_pooling; out_len (in floats) must be at least
 * hidden_size. */
NYSTROM_API nystrom_status nystrom_session_pooled(const nystrom_session* session, int pooling, float* out,
                                                  size_t out_len);

/* Called once per sequence of a batch, in order; index is the sequence's.
 * While it runs, the session's last result is that sequence's, read with the
 * accessors above. Return 0 to go on, nonzero to stop the batch. */
typedef int (*nystrom_batch_fn)(void* user, size_t index, const nystrom_session* session);

/* Runs count sequences (ids[i] holds lengths[i] tokens), each at its own
 * length with exactly the results nystrom_session_run gives one by one
 * (short ones share passes, as Session::run_batch packs them), calling
 * callback after each. The batch stops at the first invalid sequence
 * (NYSTROM_ERROR_INPUT, the message names its index) or when callback asks
 * to (NYSTROM_ERROR_CANCELLED); the callbacks made before stand. count may
 * be 0 (ids and lengths may then be NULL). Afterwards the last result is the
 * last sequence's, or none if the batch failed. */
NYSTROM_API nystrom_status nystrom_session_run_batch(nystrom_session* session, const int32_t* const* ids,
                                                     const size_t* lengths, size_t count, nystrom_batch_fn callback,
                                                     void* user);

#ifdef __cplusplus
}
#endif

#endif /* NYSTROM_NYSTROM_C_H */
