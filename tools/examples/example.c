/* Runs one sequence through a model with the C API and prints what came out.
 *   cc example.c $(pkg-config --cflags --libs nystrom) -o example
 *   ./example model.nyf [token ids...]
 */
#include <stdio.h>
#include <stdlib.h>

#include <nystrom/nystrom_c.h>

/* Prints the message of the call that just failed and exits. */
static void check(nystrom_status status, const char* what) {
  if (status == NYSTROM_OK) return;
  fprintf(stderr, "example: %s: %s (%s)\n", what, nystrom_last_error(), nystrom_status_name(status));
  exit(1);
}

int main(int argc, char** argv) {
  static const int32_t fixed_ids[] = {0, 31, 414, 232, 328, 740, 1140, 12695, 69, 46078, 1588, 2};
  int32_t ids[256];
  size_t n = 0;
  nystrom_model* model = NULL;
  nystrom_session* session = NULL;
  nystrom_config config;
  const float* hidden_state;
  const float* logits;
  size_t rows, hidden, count, i;

  if (argc < 2) {
    fprintf(stderr, "usage: example MODEL.nyf [TOKEN_ID...]\n");
    return 2;
  }
  printf("nystrom %s\n", nystrom_version());
  check(nystrom_model_open(argv[1], &model), "open");
  check(nystrom_model_config(model, &config), "config");

  /* The ids from the command line (at most 256), or fixed ones folded into
   * the vocabulary. */
  if (argc > 2) {
    for (i = 2; i < (size_t)argc && n < sizeof ids / sizeof ids[0]; ++i) {
      char* end;
      long id = strtol(argv[i], &end, 10);
      if (*argv[i] == '\0' || *end != '\0' || id < INT32_MIN || id > INT32_MAX) {
        fprintf(stderr, "example: '%s' is not a token id\n", argv[i]);
        nystrom_model_free(model);
        return 2;
      }
      ids[n++] = (int32_t)id; /* the library checks it against the vocabulary */
    }
  } else {
    for (i = 0; i < sizeof fixed_ids / sizeof fixed_ids[0]; ++i) ids[n++] = fixed_ids[i] % (int32_t)config.vocab_size;
  }

  /* NULL options: attention as the checkpoint says, all CPUs. */
  check(nystrom_session_create(model, NULL, &session), "session");
  check(nystrom_session_run(session, ids, n), "run");

  check(nystrom_session_hidden(session, &hidden_state, &rows, &hidden), "hidden state");
  printf("n=%zu hidden=%zu isa=%s\n", rows, hidden, nystrom_isa());
  printf("first values:");
  for (i = 0; i < 4 && i < hidden; ++i) printf(" %.6f", hidden_state[i]);
  printf("\n");

  /* A classifier's logits are one per label: print the best one. */
  check(nystrom_session_logits(session, &logits, &count), "logits");
  if (config.head == NYSTROM_HEAD_CLASSIFIER && count > 0) {
    size_t best = 0;
    const char* label;
    for (i = 1; i < count; ++i)
      if (logits[i] > logits[best]) best = i;
    check(nystrom_model_label(model, best, &label), "label");
    printf("label=%s logit=%.6f\n", label, logits[best]);
  }

  nystrom_session_free(session);
  nystrom_model_free(model);
  return 0;
}
