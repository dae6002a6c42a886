// The text commands of the CLI: tokenize, classify, fill-mask and embed
// (tokenize.cpp, classify.cpp, fill_mask.cpp, embed.cpp). Each tokenizes a
// file's inputs all first (so a bad line fails before any model work), a
// stream's one line at a time (each answered before the next is read), and
// runs them one after another on one session (text_run.h). Each takes the
// whole command line (argv[1] is the command) and returns the exit status.
#pragma once

namespace nystrom::cli {

int cmd_tokenize(int argc, char** argv);
int cmd_classify(int argc, char** argv);
int cmd_fill_mask(int argc, char** argv);
int cmd_embed(int argc, char** argv);
int cmd_compare_attention(int argc, char** argv);  // compare_attention.cpp

}  // namespace nystrom::cli
