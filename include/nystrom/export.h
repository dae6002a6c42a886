/* NYSTROM_API marks what libnystrom.so exports: it is built with hidden
 * visibility, so anything a public header declares without it is not
 * reachable through the shared library. C and C++. */
#ifndef NYSTROM_EXPORT_H
#define NYSTROM_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define NYSTROM_API __attribute__((visibility("default")))
#else
#define NYSTROM_API
#endif

#endif /* NYSTROM_EXPORT_H */
