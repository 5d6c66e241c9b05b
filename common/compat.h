/* The one place for compiler-specific annotations; every other file is
 * plain C11 (MSVC accepts it as well as gcc and clang). */
#ifndef COWLAB_COMPAT_H
#define COWLAB_COMPAT_H

/* printf-style format checking of a function's arguments. */
#if defined(__MINGW_PRINTF_FORMAT)
#define COWLAB_PRINTF(fmt, args) __attribute__((format(__MINGW_PRINTF_FORMAT, fmt, args)))
#elif defined(__GNUC__) || defined(__clang__)
#define COWLAB_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define COWLAB_PRINTF(fmt, args)
#endif

#endif
